package io.ringtmp.ps;

import io.ringtmp.nn.ModelSpec;
import io.ringtmp.nn.Parameter;
import io.ringtmp.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KeyRangesTest {
    @Test
    void ranges_threeServers_coverTheKeysContiguouslyAndDifferByAtMostOne() {
        KeyRanges r = new KeyRanges(new int[]{7, 3, 10, 0, 5}, 3, 100);
        assertEquals(25, r.total());
        assertEquals(0, r.from(0));
        int min = Integer.MAX_VALUE, max = 0;
        for (int s = 0; s < 3; s++) {
            if (s > 0) {
                assertEquals(r.to(s - 1), r.from(s), "range " + s + " starts where " + (s - 1) + " ends");
            }
            min = Math.min(min, r.size(s));
            max = Math.max(max, r.size(s));
        }
        assertEquals(25, r.to(2));
        assertTrue(max - min <= 1, "sizes " + min + ".." + max);
    }

    @Test
    void chunks_ofARangeLargerThanTheLimit_areContiguousNearlyEqualAndBounded() {
        KeyRanges r = new KeyRanges(new int[]{1000, 10, 33}, 2, 100);
        for (int s = 0; s < 2; s++) {
            List<KeyRanges.Chunk> cs = r.chunks(s);
            assertEquals((r.size(s) + 99) / 100, cs.size());
            int at = r.from(s);
            for (KeyRanges.Chunk c : cs) {
                assertEquals(at, c.from());
                assertTrue(c.size() <= 100 && c.size() >= r.size(s) / cs.size(), "chunk " + c);
                at = c.to();
            }
            assertEquals(r.to(s), at);
        }
        assertEquals(87, r.maxChunkSize(), "522 keys in 6 chunks");
    }

    @Test
    void gatherAndScatter_acrossTensorBoundaries_roundTripAndZeroTheSource() {
        List<Tensor> ts = List.of(Tensor.zeros(3, 2), Tensor.zeros(0), Tensor.zeros(4), Tensor.zeros(5));
        KeyRanges r = new KeyRanges(ts.stream().mapToInt(Tensor::size).toArray(), 2, 4);
        float v = 1;
        for (Tensor t : ts) {
            for (int i = 0; i < t.size(); i++) {
                t.set(i, v++);
            }
        }
        float[] out = new float[7];
        r.gatherInto(ts, 4, 11, out, true); // the last 2 of the first tensor, all of the third, 1 of the fourth
        assertArrayEquals(new float[]{5, 6, 7, 8, 9, 10, 11}, out);
        assertEquals(0f, ts.get(0).get(4));
        assertEquals(0f, ts.get(2).get(3));
        assertEquals(4f, ts.get(0).get(3), "keys outside the range are untouched");
        assertEquals(12f, ts.get(3).get(1));
        r.scatter(Tensor.of(new float[]{-1, -2, -3, -4, -5, -6, -7}, 7), 4, ts);
        assertEquals(-2f, ts.get(0).get(5));
        assertEquals(-6f, ts.get(2).get(3));
        assertEquals(-7f, ts.get(3).get(0));
        assertEquals(12f, ts.get(3).get(1));
    }

    @Test
    void initialValues_ofEveryServer_concatenateToTheWholeModelsWeights() {
        ModelSpec spec = ModelSpec.parse("mlp:20-16-12-4");
        List<Parameter> whole = spec.build(99).parameters();
        int[] sizes = KeyRanges.parameterSizes(spec);
        assertArrayEquals(whole.stream().mapToInt(Parameter::size).toArray(), sizes);
        KeyRanges r = new KeyRanges(sizes, 3, 50);
        List<Tensor> values = new ArrayList<>();
        whole.forEach(p -> values.add(p.value()));
        for (int s = 0; s < 3; s++) {
            float[] expected = new float[r.size(s)];
            r.gatherInto(values, r.from(s), r.to(s), expected, false);
            assertArrayEquals(expected, r.initialValues(spec, 99, s).toArray(), "server " + s);
        }
    }

    @Test
    void moreServersThanParameters_isRefusedNamingBoth() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new KeyRanges(new int[]{2, 1}, 4, 10));
        assertTrue(e.getMessage().contains("4 servers") && e.getMessage().contains("3 parameters"), e.getMessage());
    }
}
