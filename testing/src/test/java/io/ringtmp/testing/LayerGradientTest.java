package io.ringtmp.testing;

import io.ringtmp.nn.Activation;
import io.ringtmp.nn.Dense;
import io.ringtmp.nn.Dropout;
import io.ringtmp.nn.Flatten;
import io.ringtmp.nn.Initializer;
import io.ringtmp.nn.Layer;
import io.ringtmp.nn.SoftmaxCrossEntropy;
import io.ringtmp.tensor.Rng;
import io.ringtmp.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every layer's backward pass and the loss's gradient against finite differences. */
class LayerGradientTest {
    private final GradientChecker checker = new GradientChecker(1e-2, 1e-2);

    private static Tensor randomInput(int rows, int cols, long seed) {
        Rng rng = new Rng(seed);
        Tensor x = Tensor.zeros(rows, cols);
        for (int i = 0; i < x.size(); i++) {
            // Keep values away from ReLU's kink at 0, where finite differences are meaningless.
            double v = rng.nextGaussian();
            x.set(i, (float) (Math.abs(v) < 0.05 ? v + Math.copySign(0.1, v) : v));
        }
        return x;
    }

    @Test
    void dense_gradientsMatchFiniteDifferences() {
        Dense d = new Dense("fc1", 7, 5, Initializer.XAVIER, new Rng(1));
        for (int i = 0; i < 5; i++) {
            d.bias().value().set(i, 0.1f * i);
        }
        checker.assertGradientsMatch(d, randomInput(4, 7, 2), true, 3);
    }

    @ParameterizedTest
    @EnumSource(Activation.Kind.class)
    void activation_gradientsMatchFiniteDifferences(Activation.Kind kind) {
        Layer a = new Activation(kind.id() + "1", kind);
        GradientChecker fine = new GradientChecker(1e-3, 1e-2);
        fine.assertGradientsMatch(a, randomInput(3, 6, 4), true, 5);
    }

    @Test
    void flatten_gradientIsIdentity() {
        checker.assertGradientsMatch(new Flatten("flatten1"), randomInput(2, 9, 6), true, 7);
    }

    @Test
    void dropout_evalIsIdentityAndGradientMatches() {
        checker.assertGradientsMatch(new Dropout("drop1", 0.3, new Rng(8)), randomInput(3, 5, 9), false, 10);
    }

    @Test
    void dropout_training_gradientFlowsThroughKeptElementsOnly() {
        Dropout d = new Dropout("drop1", 0.5, new Rng(11));
        Tensor x = randomInput(50, 40, 12), y = Tensor.zeros(50, 40), s = Tensor.zeros(50, 40);
        d.forward(x, y, s, true);
        Tensor dy = randomInput(50, 40, 13), dx = Tensor.zeros(50, 40);
        d.backward(x, y, s, dy, dx);
        int dropped = 0;
        for (int i = 0; i < x.size(); i++) {
            float mask = s.get(i);
            assertTrue(mask == 0f || mask == 2f, "mask " + mask);
            assertEquals(x.get(i) * mask, y.get(i), 1e-6);
            assertEquals(dy.get(i) * mask, dx.get(i), 1e-6);
            dropped += mask == 0f ? 1 : 0;
        }
        assertTrue(dropped > 800 && dropped < 1200, "about half dropped, got " + dropped + " of 2000");
    }

    @Test
    void softmaxCrossEntropy_gradientMatchesFiniteDifferences() {
        Tensor z = randomInput(4, 6, 14);
        int[] labels = {0, 5, 2, 2};
        Tensor d = Tensor.zeros(4, 6);
        SoftmaxCrossEntropy.lossAndGradInto(z, labels, 0, 0.25f, d);
        double h = 1e-2;
        for (int i = 0; i < z.size(); i++) {
            float orig = z.get(i);
            z.set(i, (float) (orig + h));
            double plus = SoftmaxCrossEntropy.lossAndGradInto(z, labels, 0, 1f, null) / 4;
            z.set(i, (float) (orig - h));
            double minus = SoftmaxCrossEntropy.lossAndGradInto(z, labels, 0, 1f, null) / 4;
            z.set(i, orig);
            assertEquals((plus - minus) / (2 * h), d.get(i), 1e-3, "logit " + i);
        }
    }

    @Test
    void softmaxCrossEntropy_hugeLogits_staysFinite() {
        Tensor z = Tensor.of(new float[]{1e30f, -1e30f, 0f, 3e38f, 3e38f, -3e38f}, 2, 3);
        Tensor d = Tensor.zeros(2, 3);
        double loss = SoftmaxCrossEntropy.lossAndGradInto(z, new int[]{0, 2}, 0, 1f, d);
        assertTrue(Double.isFinite(loss), "loss " + loss);
        for (int i = 0; i < d.size(); i++) {
            assertTrue(Float.isFinite(d.get(i)), "grad " + i + " = " + d.get(i));
        }
        assertEquals(0.0, SoftmaxCrossEntropy.lossAndGradInto(z.rows(0, 1), new int[]{0}, 0, 1f, null), 1e-9);
    }
}
