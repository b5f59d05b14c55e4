package io.ringtmp.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.ringtmp.nn.optim.Optimizer;
import io.ringtmp.nn.optim.OptimizerConfig;
import io.ringtmp.tensor.Blas;
import io.ringtmp.tensor.Rng;
import io.ringtmp.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link Sequential} fuses each activation into the product next to it (forward: into the
 * dense layer's output; backward: into the input gradient of the dense layer after it) and,
 * given an {@link Optimizer.Step}, the update into the weight-gradient products. The reference
 * is the unfused sequence: each layer's own forward and backward called one after another, then
 * {@link Optimizer#step}. The arithmetic per element is the same, so the results must be equal
 * bit for bit, at 1 and 2 threads, whatever kernel the products run on.
 */
@Timeout(60)
class FusedPassesTest {
    @AfterEach
    void oneThread() {
        Blas.setThreads(1);
    }

    private static Tensor random(Rng r, int rows, int cols) {
        Tensor t = Tensor.zeros(rows, cols);
        for (int i = 0; i < t.size(); i++) {
            t.set(i, r.nextFloat() * 2 - 1);
        }
        return t;
    }

    /** Forward, backward and update layer by layer, as before fusion. */
    private static void unfusedStep(Sequential model, Optimizer opt, Tensor x, Tensor dOut, double lr, List<Tensor> outs) {
        int rows = x.rows();
        List<Tensor> inputs = new ArrayList<>();
        Tensor in = x;
        for (Layer l : model.layers()) {
            inputs.add(in);
            int w = l.outputSize(in.cols());
            Tensor y = Tensor.zeros(rows, w);
            l.forward(in, y, Tensor.zeros(rows, Math.max(1, l.stateSize(in.cols()))), true);
            outs.add(y);
            in = y;
        }
        Tensor dy = dOut;
        for (int i = model.size() - 1; i >= 0; i--) {
            Layer l = model.layers().get(i);
            Tensor dx = i == 0 ? null : Tensor.zeros(rows, inputs.get(i).cols());
            l.backward(inputs.get(i), outs.get(i), Tensor.zeros(rows, 1), dy, dx);
            dy = dx;
        }
        opt.step(lr);
    }

    @ParameterizedTest
    @CsvSource({"'mlp:784-512-512-10', 1, sgd", "'mlp:784-512-512-10', 2, sgd", "'mlp:96-300-200-7?act=tanh', 2, nesterov",
            "'mlp:96-300-200-7?act=gelu', 1, adam", "'mlp:40-1000-30', 2, sgd"})
    void fusedForwardBackwardAndStep_equalTheUnfusedSequenceBitForBit(String model, int threads, String optimizer) {
        Blas.setThreads(threads);
        ModelSpec spec = ModelSpec.parse(model);
        Sequential fused = spec.build(5), plain = spec.build(5);
        OptimizerConfig cfg = switch (optimizer) {
            case "nesterov" -> OptimizerConfig.sgd(0.9, true, 1e-3);
            case "adam" -> OptimizerConfig.adam(0.9, 0.999, 1e-8, 0);
            default -> OptimizerConfig.sgd(0.9, false, 0);
        };
        Optimizer optFused = Optimizer.create(cfg, fused.parameters()), optPlain = Optimizer.create(cfg, plain.parameters());
        Rng r = new Rng(11);
        int rows = 64;
        Activations acts = fused.newActivations(rows);
        for (int step = 0; step < 3; step++) {
            Tensor x = random(r, rows, spec.input());
            Tensor dOut = random(r, rows, spec.outputSize());
            Tensor out = fused.forward(x, acts, true);
            Optimizer.Step s = optFused.begin(0.01);
            fused.backward(dOut, acts, false, s);
            s.finish();
            List<Tensor> outs = new ArrayList<>();
            unfusedStep(plain, optPlain, x, dOut, 0.01, outs);
            assertArrayEquals(outs.get(outs.size() - 1).toArray(), out.toArray(), "outputs, step " + step);
            for (int l = 0; l < outs.size() - 1; l++) {
                assertArrayEquals(outs.get(l).toArray(), acts.outputs[l].rows(0, rows).toArray(), "layer " + l + " output, step " + step);
            }
            for (int i = 0; i < fused.parameters().size(); i++) {
                Parameter pf = fused.parameters().get(i), pp = plain.parameters().get(i);
                assertArrayEquals(pp.value().toArray(), pf.value().toArray(), pf.name() + " after step " + step);
                assertArrayEquals(pp.grad().toArray(), pf.grad().toArray(), pf.name() + " gradient consumed (zero) after step " + step);
            }
            List<Tensor> sf = optFused.state(), sp = optPlain.state();
            for (int i = 0; i < sf.size(); i++) {
                assertArrayEquals(sp.get(i).toArray(), sf.get(i).toArray(), "optimiser state " + i + " after step " + step);
            }
        }
        assertEquals(3, optFused.steps());
    }

    @ParameterizedTest
    @CsvSource({"1", "2"})
    void fusedBackward_inputGradient_equalsTheUnfusedOne(int threads) {
        Blas.setThreads(threads);
        Sequential m = ModelSpec.parse("mlp:50-600-40-5").build(2);
        Rng r = new Rng(3);
        Tensor x = random(r, 33, 50), dOut = random(r, 33, 5);
        Activations acts = m.newActivations(33);
        m.forward(x, acts, true);
        Tensor dx = m.backward(dOut, acts, true).copy();
        // Unfused: layer by layer.
        List<Tensor> outs = new ArrayList<>();
        Tensor in = x;
        List<Tensor> inputs = new ArrayList<>();
        for (Layer l : m.layers()) {
            inputs.add(in);
            Tensor y = Tensor.zeros(33, l.outputSize(in.cols()));
            l.forward(in, y, Tensor.zeros(33, 1), true);
            outs.add(y);
            in = y;
        }
        Tensor dy = dOut;
        for (int i = m.size() - 1; i >= 0; i--) {
            Tensor d = Tensor.zeros(33, inputs.get(i).cols());
            m.layers().get(i).backward(inputs.get(i), outs.get(i), Tensor.zeros(33, 1), dy, d);
            dy = d;
        }
        assertArrayEquals(dy.toArray(), dx.toArray());
    }

    @org.junit.jupiter.api.Test
    void step_finishTwice_fails() {
        Sequential m = ModelSpec.parse("mlp:4-3").build(1);
        Optimizer.Step s = Optimizer.create(OptimizerConfig.sgd(0, false, 0), m.parameters()).begin(0.1);
        s.finish();
        assertThrows(IllegalStateException.class, s::finish);
    }
}
