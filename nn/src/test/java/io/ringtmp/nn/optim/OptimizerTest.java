package io.ringtmp.nn.optim;

import io.ringtmp.nn.Parameter;
import io.ringtmp.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Optimiser steps against values worked out by hand from the formulas in Optimizer's Javadoc. */
class OptimizerTest {
    private static Parameter param(float w, float g) {
        return new Parameter("p", Tensor.of(new float[]{w}, 1), Tensor.of(new float[]{g}, 1));
    }

    @Test
    void sgd_plain_withWeightDecay() {
        Parameter p = param(1.0f, 0.5f);
        Optimizer o = Optimizer.create(OptimizerConfig.sgd(0, false, 0.1), List.of(p));
        o.step(0.1);
        // g = 0.5 + 0.1*1 = 0.6; w = 1 - 0.1*0.6
        assertEquals(0.94f, p.value().get(0), 1e-6);
        assertEquals(0f, p.grad().get(0), "a step consumes the gradient");
    }

    @Test
    void sgd_momentum_twoSteps() {
        Parameter p = param(1.0f, 0.5f);
        Optimizer o = Optimizer.create(OptimizerConfig.sgd(0.9, false, 0), List.of(p));
        o.step(0.1);   // v = 0.5, w = 0.95
        assertEquals(0.95f, p.value().get(0), 1e-6);
        p.grad().set(0, 0.2f);
        o.step(0.1);   // v = 0.9*0.5 + 0.2 = 0.65, w = 0.95 - 0.065 = 0.885
        assertEquals(0.885f, p.value().get(0), 1e-6);
    }

    @Test
    void sgd_nesterov_twoSteps() {
        Parameter p = param(1.0f, 0.5f);
        Optimizer o = Optimizer.create(OptimizerConfig.sgd(0.9, true, 0), List.of(p));
        o.step(0.1);   // v = 0.5, w -= 0.1*(0.5 + 0.45) -> 0.905
        assertEquals(0.905f, p.value().get(0), 1e-6);
        p.grad().set(0, 0.2f);
        o.step(0.1);   // v = 0.65, w -= 0.1*(0.2 + 0.585) -> 0.8265
        assertEquals(0.8265f, p.value().get(0), 1e-6);
    }

    @Test
    void adam_twoSteps() {
        Parameter p = param(1.0f, 0.5f);
        Optimizer o = Optimizer.create(OptimizerConfig.adam(0.9, 0.999, 1e-8, 0), List.of(p));
        o.step(0.01);
        // step 1: m=0.05, v=0.00025, mhat=0.5, vhat=0.25 -> w -= 0.01*0.5/0.5 = 0.01
        assertEquals(0.99f, p.value().get(0), 1e-6);
        p.grad().set(0, -0.3f);
        o.step(0.01);
        double m = 0.9 * 0.05 + 0.1 * -0.3, v = 0.999 * 0.00025 + 0.001 * 0.09;
        double mhat = m / (1 - 0.81), vhat = v / (1 - 0.999 * 0.999);
        assertEquals(0.99 - 0.01 * mhat / (Math.sqrt(vhat) + 1e-8), p.value().get(0), 1e-6);
    }

    @Test
    void largeParameters_twoThreads_sameUpdateAsOneThread() {
        for (OptimizerConfig cfg : List.of(OptimizerConfig.sgd(0.9, true, 1e-3), OptimizerConfig.adam(0.9, 0.99, 1e-8, 1e-3))) {
            float[] result1 = null;
            for (int threads : new int[]{1, 2}) {
                io.ringtmp.tensor.Parallel.setThreads(threads);
                try {
                    int n = 200_003;
                    Parameter p = Parameter.zeros("big", n);
                    Optimizer o = Optimizer.create(cfg, List.of(p));
                    for (int step = 0; step < 3; step++) {
                        for (int i = 0; i < n; i++) {
                            p.value().set(i, p.value().get(i));
                            p.grad().set(i, (float) Math.sin(i * 0.001 + step));
                        }
                        o.step(0.01);
                    }
                    if (result1 == null) {
                        result1 = p.value().toArray();
                    } else {
                        org.junit.jupiter.api.Assertions.assertArrayEquals(result1, p.value().toArray(), cfg.kind().name());
                    }
                } finally {
                    io.ringtmp.tensor.Parallel.setThreads(1);
                }
            }
        }
    }

    @Test
    void schedules_giveHandComputedRates() {
        assertEquals(0.1, LrSchedule.parse("constant", 0.1, 100).lr(57), 1e-12);
        LrSchedule step = LrSchedule.parse("step:10:0.5", 0.1, 100);
        assertEquals(0.1, step.lr(9), 1e-12);
        assertEquals(0.05, step.lr(10), 1e-12);
        assertEquals(0.025, step.lr(25), 1e-12);
        LrSchedule cos = LrSchedule.parse("cosine", 0.1, 100);
        assertEquals(0.1, cos.lr(0), 1e-12);
        assertEquals(0.05, cos.lr(50), 1e-12);
        assertEquals(0.0, cos.lr(100), 1e-12);
        assertEquals(0.01, LrSchedule.parse("cosine:0.1", 0.1, 100).lr(100), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.parse("linear", 0.1, 100));
    }

    @Test
    void config_rejectsBadValues() {
        assertThrows(IllegalArgumentException.class, () -> OptimizerConfig.sgd(1.5, false, 0));
        assertThrows(IllegalArgumentException.class, () -> OptimizerConfig.sgd(0, true, 0));
        assertThrows(IllegalArgumentException.class, () -> OptimizerConfig.parse("rmsprop", 0, 0));
    }

    @Test
    void stepInto_writesTheInPlaceUpdateBitForBitIntoAnotherBuffer_andLeavesTheOldWeights() {
        io.ringtmp.tensor.Rng rng = new io.ringtmp.tensor.Rng(5);
        int n = 70_000; // large enough for the threaded path
        for (OptimizerConfig c : List.of(OptimizerConfig.sgd(0, false, 0.01), OptimizerConfig.sgd(0.9, false, 0.01),
                OptimizerConfig.sgd(0.9, true, 0), OptimizerConfig.adam(0.9, 0.999, 1e-8, 0.01))) {
            float[] w0 = new float[n];
            for (int i = 0; i < n; i++) {
                w0[i] = (float) rng.nextGaussian();
            }
            Parameter a = new Parameter("a", Tensor.of(w0.clone(), n), Tensor.zeros(n));
            Parameter b = new Parameter("b", Tensor.of(w0.clone(), n), Tensor.zeros(n));
            Optimizer inPlace = Optimizer.create(c, List.of(a));
            Optimizer outOfPlace = Optimizer.create(c, List.of(b));
            Tensor[] versions = {b.value(), Tensor.zeros(n), Tensor.zeros(n)};
            int cur = 0;
            for (int step = 0; step < 3; step++) {
                for (int i = 0; i < n; i++) {
                    float g = (float) rng.nextGaussian();
                    a.grad().set(i, g);
                    b.grad().set(i, g);
                }
                float[] before = versions[cur].toArray();
                int next = (cur + 1) % versions.length;
                inPlace.step(0.05);
                outOfPlace.stepInto(0.05, List.of(versions[cur]), List.of(versions[next]));
                assertTrue(java.util.Arrays.equals(a.value().toArray(), versions[next].toArray()), c + ", step " + step);
                assertTrue(java.util.Arrays.equals(before, versions[cur].toArray()), "the old weights are untouched");
                assertEquals(0f, b.grad().get(n - 1), "the gradient is consumed");
                cur = next;
            }
        }
    }
}
