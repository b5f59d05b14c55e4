package io.ringtmp.testing;

import io.ringtmp.nn.Activations;
import io.ringtmp.nn.ModelSpec;
import io.ringtmp.nn.Parameter;
import io.ringtmp.nn.Sequential;
import io.ringtmp.nn.SoftmaxCrossEntropy;
import io.ringtmp.tensor.Rng;
import io.ringtmp.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A whole model's backward pass (Sequential's buffer handling included) against finite differences of the loss. */
class ModelGradientTest {
    @Test
    void sequentialWithLoss_gradientsMatchFiniteDifferences() {
        Sequential m = ModelSpec.parse("mlp:6-8-7-3?act=tanh").build(42);
        Rng rng = new Rng(1);
        Tensor x = Tensor.zeros(5, 6);
        for (int i = 0; i < x.size(); i++) {
            x.set(i, (float) rng.nextGaussian());
        }
        int[] y = {0, 1, 2, 1, 0};
        Activations acts = m.newActivations(8);
        Tensor d = Tensor.zeros(5, 3);
        SoftmaxCrossEntropy.lossAndGradInto(m.forward(x, acts, true), y, 0, 0.2f, d);
        m.backward(d, acts, false);
        double h = 1e-2;
        for (Parameter p : m.parameters()) {
            for (int i = 0; i < p.size(); i += 3) {
                float orig = p.value().get(i);
                p.value().set(i, (float) (orig + h));
                double plus = SoftmaxCrossEntropy.lossAndGradInto(m.forward(x, acts, true), y, 0, 1f, null) / 5;
                p.value().set(i, (float) (orig - h));
                double minus = SoftmaxCrossEntropy.lossAndGradInto(m.forward(x, acts, true), y, 0, 1f, null) / 5;
                p.value().set(i, orig);
                assertEquals((plus - minus) / (2 * h), p.grad().get(i), 2e-3, p.name() + "[" + i + "]");
            }
        }
    }
}
