package io.ringtmp.launch.internal;

import org.junit.jupiter.api.Test;

import java.util.Collections;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CpuSlicesTest {
    @Test
    void assign_halfCoreNodesOnTwoCpus_pairsShareACore() {
        assertEquals(Optional.of(List.of("0", "0", "1", "1")), CpuSlices.assign(Collections.nCopies(4, 0.5), List.of(0, 1)));
    }

    @Test
    void assign_quarterCores_packsOntoTheFirstCpu() {
        assertEquals(Optional.of(List.of("0", "0", "0")), CpuSlices.assign(Collections.nCopies(3, 0.25), List.of(0, 1)));
    }

    @Test
    void assign_sliceAcrossACoreBoundary_getsBothCores() {
        // 0.75 each on 3 CPUs: [0, .75) [.75, 1.5) [1.5, 2.25)
        assertEquals(Optional.of(List.of("0", "0-1", "1-2")), CpuSlices.assign(Collections.nCopies(3, 0.75), List.of(0, 1, 2)));
    }

    @Test
    void assign_wholeCores_oneEachInTheLaunchersCpus() {
        assertEquals(Optional.of(List.of("2", "5")), CpuSlices.assign(Collections.nCopies(2, 1.0), List.of(2, 5)));
        assertEquals(Optional.of(List.of("0-1", "2-3")), CpuSlices.assign(Collections.nCopies(2, 2.0), List.of(0, 1, 2, 3)));
    }

    @Test
    void assign_perNodeQuotas_laidEndToEnd() {
        // [0, .25) [.25, .75) [.75, 1.25) [1.25, 1.75): the slow device shares CPU 0 with node 1.
        assertEquals(Optional.of(List.of("0", "0", "0-1", "1")), CpuSlices.assign(List.of(0.25, 0.5, 0.5, 0.5), List.of(0, 1)));
        assertEquals(Optional.of(List.of("0", "1")), CpuSlices.assign(List.of(1.0, 0.5), List.of(0, 1)));
        assertEquals(Optional.empty(), CpuSlices.assign(List.of(1.5, 0.75), List.of(0, 1)));
    }

    @Test
    void assign_quotasExceedTheCpus_noSlicing() {
        assertEquals(Optional.empty(), CpuSlices.assign(Collections.nCopies(4, 0.75), List.of(0, 1)));
        assertEquals(Optional.empty(), CpuSlices.assign(Collections.nCopies(4, 0.5), List.of()));
    }

    @Test
    void parse_rangesAndSingles() {
        assertEquals(List.of(0, 1, 2, 3, 8, 10, 11), CpuSlices.parse("0-3,8,10-11\n"));
        assertEquals(List.of(), CpuSlices.parse(" "));
        assertThrows(IllegalArgumentException.class, () -> CpuSlices.parse("3-1"));
        assertThrows(IllegalArgumentException.class, () -> CpuSlices.parse("a"));
    }
}
