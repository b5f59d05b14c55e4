package io.ringtmp.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SyntheticTest {
    @Test
    void teacher_sameSeed_identicalData() {
        Dataset a = Synthetic.teacher(7, 300, 20, 16, 5);
        Dataset b = Synthetic.teacher(7, 300, 20, 16, 5);
        assertArrayEquals(a.features().toArray(), b.features().toArray());
        assertArrayEquals(a.labels(), b.labels());
    }

    @Test
    void teacher_differentSeed_differentData() {
        Dataset a = Synthetic.teacher(7, 300, 20, 16, 5);
        Dataset b = Synthetic.teacher(8, 300, 20, 16, 5);
        assertFalse(Arrays.equals(a.features().toArray(), b.features().toArray()));
        assertFalse(Arrays.equals(a.labels(), b.labels()));
    }

    @Test
    void teacher_manyExamples_everyClassRoughlyEquallyOften() {
        for (long seed = 1; seed <= 5; seed++) {
            Dataset d = Synthetic.teacher(seed, 5000, 50, 32, 10);
            for (int c : d.classCounts()) {
                assertTrue(c > 250 && c < 1000, "seed " + seed + ": class counts " + Arrays.toString(d.classCounts()));
            }
        }
    }

    @Test
    void teacher_labelsNotLinearlyTrivial_dependOnInputs() {
        // Same teacher, different inputs: labels must differ example by example, not be a constant.
        TrainTest tt = Synthetic.teacherSplit(3, 1000, 1000, 10, 8, 4);
        assertFalse(Arrays.equals(tt.train().labels(), tt.test().labels()));
        assertEquals(4, Arrays.stream(tt.train().classCounts()).filter(c -> c > 0).count());
    }

    @Test
    void teacherSplit_trainEqualsTeacherAndTestIsDifferentInputs() {
        TrainTest tt = Synthetic.teacherSplit(11, 200, 50, 12, 8, 3);
        Dataset alone = Synthetic.teacher(11, 200, 12, 8, 3);
        assertArrayEquals(alone.features().toArray(), tt.train().features().toArray());
        assertArrayEquals(alone.labels(), tt.train().labels());
        assertEquals(50, tt.test().size());
        assertFalse(Arrays.equals(tt.train().features().rows(0, 50).toArray(), tt.test().features().toArray()));
    }

    @Test
    void blobs_sameSeedSame_differentSeedDifferent() {
        assertArrayEquals(Synthetic.blobs(5, 100, 4, 3, 0.5).features().toArray(),
                Synthetic.blobs(5, 100, 4, 3, 0.5).features().toArray());
        assertFalse(Arrays.equals(Synthetic.blobs(5, 100, 4, 3, 0.5).features().toArray(),
                Synthetic.blobs(6, 100, 4, 3, 0.5).features().toArray()));
    }

    @Test
    void blobs_zeroSpread_examplesSitOnTheirClassCentre() {
        Dataset d = Synthetic.blobs(2, 200, 6, 4, 0.0);
        for (int i = 0; i < d.size(); i++) {
            for (int j = 0; j < d.size(); j++) {
                boolean sameRow = Arrays.equals(d.features().rows(i, i + 1).toArray(), d.features().rows(j, j + 1).toArray());
                assertEquals(d.label(i) == d.label(j), sameRow);
            }
        }
        for (int c : d.classCounts()) {
            assertTrue(c > 20, Arrays.toString(d.classCounts()));
        }
    }

    @Test
    void teacher_badArguments_rejectedNamingParameter() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Synthetic.teacher(1, 10, 0, 4, 3));
        assertTrue(e.getMessage().contains("inputs"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Synthetic.blobs(1, 10, 3, 1, 1));
        assertTrue(e.getMessage().contains("classes"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Synthetic.blobs(1, 10, 3, 2, Double.NaN));
        assertTrue(e.getMessage().contains("spread"), e.getMessage());
    }
}
