package io.ringtmp.cli.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringtmp.cli.bench.GemmBench.Result;
import io.ringtmp.cli.bench.GemmBench.Shape;
import io.ringtmp.cli.bench.GemmBench.Workload;
import java.util.List;
import org.junit.jupiter.api.Test;

class GemmBenchTest {
    @Test
    void mlpWorkload_hasForwardWeightAndInputGradients() {
        Workload w = Workload.mlp("t", 128, 784, 512, 10);
        assertEquals(List.of(
                new Shape(128, 784, 512, false, false), new Shape(784, 128, 512, true, false),
                new Shape(128, 512, 10, false, false), new Shape(512, 128, 10, true, false),
                new Shape(128, 10, 512, false, true)), w.gemms());
        assertEquals(2.0 * 128 * (784 * 512 * 2 + 512 * 10 * 3), w.flops(), 1e-3);
    }

    @Test
    void stepRate_isFlopWeightedHarmonicMean() {
        Shape big = Shape.nn(4, 4, 4), small = Shape.nn(1, 1, 2);
        Workload w = new Workload("t", List.of(big, big, small));
        List<Result> rates = List.of(new Result(big, 1, 100, 1), new Result(small, 1, 1, 1));
        double seconds = 2 * big.flops() / 100e9 + small.flops() / 1e9;
        assertEquals(w.flops() / seconds / 1e9, GemmBench.stepRate(w, rates), 1e-9);
        assertThrows(IllegalArgumentException.class, () -> GemmBench.stepRate(w, List.of(rates.get(0))));
    }

    @Test
    void measure_smallShapes_givesPositiveRatesAndFormattedLines() {
        List<Result> rs = GemmBench.measure(List.of(Shape.nn(16, 8, 32), new Shape(8, 16, 8, true, true)), 1);
        for (Result r : rs) {
            assertTrue(r.gflops() > 0 && r.samples() >= 1, r.toString());
            assertTrue(r.line().matches("sgemm \\d+x\\d+x\\d+ [NT]{2} threads=1: \\d+\\.\\d GFLOP/s"), r.line());
        }
        assertEquals("sgemm 128x784x512 NN threads=1: 152.3 GFLOP/s",
                new Result(Shape.nn(128, 784, 512), 1, 152.34, 5).line());
    }

    @Test
    void defaultShapes_coverBothWorkloadsAndSquares() {
        List<Shape> s = GemmBench.defaultShapes();
        assertTrue(s.containsAll(GemmBench.W1.gemms()) && s.containsAll(GemmBench.W2.gemms()));
        assertTrue(s.contains(Shape.nn(2048, 2048, 2048)) && s.contains(Shape.nn(1024, 1024, 1024)));
        assertEquals(s.size(), s.stream().distinct().count());
    }
}
