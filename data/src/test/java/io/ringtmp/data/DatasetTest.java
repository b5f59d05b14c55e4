package io.ringtmp.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringtmp.tensor.Tensor;
import org.junit.jupiter.api.Test;

class DatasetTest {
    /** 5 examples of 3 features; example i has features (10i, 10i+1, 10i+2) and label i mod 3. */
    private static Dataset small() {
        float[] x = new float[15];
        int[] y = new int[5];
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < 3; j++) {
                x[i * 3 + j] = 10 * i + j;
            }
            y[i] = i % 3;
        }
        return Dataset.of("small", Tensor.wrap(x, 5, 3), y, 3);
    }

    @Test
    void gatherInto_selectedIndices_copiesRowsAndLabels() {
        Dataset d = small();
        Tensor x = Tensor.zeros(2, 3);
        int[] y = new int[2];
        d.gatherInto(new int[] {9, 4, 1, 9}, 1, 2, x, y);
        assertArrayEquals(new float[] {40, 41, 42, 10, 11, 12}, x.toArray());
        assertArrayEquals(new int[] {1, 1}, y);
        x.fill(-1); // the batch buffer is a copy, not a view of the set
        assertEquals(40f, d.features().get(4, 0));
    }

    @Test
    void gatherInto_shortLastBatch_leavesRemainingRowsAlone() {
        Dataset d = small();
        Tensor x = Tensor.zeros(3, 3);
        x.fill(7);
        int[] y = {-1, -1, -1};
        d.gatherInto(new int[] {2}, 0, 1, x, y);
        assertArrayEquals(new float[] {20, 21, 22, 7, 7, 7, 7, 7, 7}, x.toArray());
        assertArrayEquals(new int[] {2, -1, -1}, y);
    }

    @Test
    void gatherInto_indexOutsideSet_errorNamesPositionAndSize() {
        Dataset d = small();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> d.gatherInto(new int[] {0, 5}, 0, 2, Tensor.zeros(2, 3), new int[2]));
        assertTrue(e.getMessage().contains("indices[1] = 5") && e.getMessage().contains("size 5"), e.getMessage());
    }

    @Test
    void gatherInto_wrongBufferShape_errorNamesShapes() {
        Dataset d = small();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> d.gatherInto(new int[] {0, 1}, 0, 2, Tensor.zeros(2, 4), new int[2]));
        assertTrue(e.getMessage().contains("[2, 4]") && e.getMessage().contains(", 3]"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> d.gatherInto(new int[] {0, 1}, 1, 2, Tensor.zeros(2, 3), new int[2]));
        assertThrows(IllegalArgumentException.class,
                () -> d.gatherInto(new int[] {0, 1}, 0, 2, Tensor.zeros(2, 3), new int[1]));
    }

    @Test
    void subset_range_sharesRowsAndSlicesLabels() {
        Dataset s = small().subset(1, 4);
        assertEquals(3, s.size());
        assertEquals(3, s.featureSize());
        assertArrayEquals(new int[] {1, 2, 0}, s.labels());
        Tensor x = Tensor.zeros(1, 3);
        int[] y = new int[1];
        s.gatherInto(new int[] {2}, 0, 1, x, y);
        assertArrayEquals(new float[] {30, 31, 32}, x.toArray());
        assertEquals("small[1:4]", s.name());
        assertThrows(IllegalArgumentException.class, () -> small().subset(3, 6));
    }

    @Test
    void of_labelOutOfRange_rejectedNamingIndex() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Dataset.of("bad", Tensor.zeros(2, 1), new int[] {0, 3}, 3));
        assertTrue(e.getMessage().contains("label 3 at index 1"), e.getMessage());
    }

    @Test
    void of_rowsAndLabelsDisagree_rejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Dataset.of("bad", Tensor.zeros(2, 1), new int[] {0}, 3));
        assertTrue(e.getMessage().contains("2 rows") && e.getMessage().contains("1 labels"), e.getMessage());
    }

    @Test
    void classCounts_countsEachLabel() {
        assertArrayEquals(new int[] {2, 2, 1}, small().classCounts());
    }
}
