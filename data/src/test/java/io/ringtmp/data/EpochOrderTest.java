package io.ringtmp.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class EpochOrderTest {
    @Test
    void permutation_sameSeedAndEpoch_sameOrderFromSeparateInstances() {
        assertArrayEquals(new EpochOrder(42, 1000).permutation(3), new EpochOrder(42, 1000).permutation(3));
    }

    @Test
    void permutation_isAPermutation_andEpochsAndSeedsDiffer() {
        EpochOrder o = new EpochOrder(42, 1000);
        int[] p0 = o.permutation(0);
        int[] sorted = p0.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < sorted.length; i++) {
            assertEquals(i, sorted[i]);
        }
        assertFalse(Arrays.equals(p0, o.permutation(1)));
        assertFalse(Arrays.equals(p0, new EpochOrder(43, 1000).permutation(0)));
    }

    @Test
    void shard_anyWorkerCount_disjointAndComplete() {
        for (int n : new int[] {0, 1, 7, 100, 1001}) {
            for (int workers = 1; workers <= 9; workers++) {
                int[] order = new EpochOrder(5, n).permutation(2);
                boolean[] seen = new boolean[n];
                int total = 0;
                int min = Integer.MAX_VALUE;
                int max = 0;
                for (int w = 0; w < workers; w++) {
                    int[] s = EpochOrder.shard(order, w, workers);
                    min = Math.min(min, s.length);
                    max = Math.max(max, s.length);
                    for (int i : s) {
                        assertFalse(seen[i], "index " + i + " in two shards (n=" + n + ", workers=" + workers + ")");
                        seen[i] = true;
                        total++;
                    }
                }
                assertEquals(n, total);
                assertTrue(max - min <= 1, "shard sizes differ by " + (max - min));
            }
        }
    }

    @Test
    void shard_isContiguousBlockOfEpochOrder() {
        EpochOrder o = new EpochOrder(1, 10);
        int[] p = o.permutation(4);
        assertArrayEquals(Arrays.copyOfRange(p, 3, 6), o.shard(4, 1, 3));
        assertArrayEquals(Arrays.copyOfRange(p, 6, 10), o.shard(4, 2, 3));
    }

    @Test
    void shard_workerOutOfRange_errorNamesRange() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> EpochOrder.shard(new int[4], 2, 2));
        assertTrue(e.getMessage().contains("0..1") && e.getMessage().contains("got 2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> EpochOrder.shard(new int[4], 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new EpochOrder(1, 4).permutation(-1));
    }
}
