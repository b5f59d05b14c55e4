package io.ringtmp.testing;

import io.ringtmp.nn.Layer;
import io.ringtmp.nn.Parameter;
import io.ringtmp.tensor.Rng;
import io.ringtmp.tensor.Tensor;

/**
 * Checks a layer's backward pass against central finite differences of its forward pass.
 *
 * <p>The scalar checked is {@code L = Σ y ⊙ r} for a fixed random {@code r}, so {@code dL/dy = r}.
 * Each input element and each parameter element is perturbed by ±h in turn; the analytic
 * gradient must agree with {@code (L(+h) - L(-h)) / 2h} to within {@code tol} relative error
 * (absolute for tiny values). float32 forward passes limit the attainable precision, so h is
 * about 1e-2 and tol about 1e-2 — enough to catch any wrong formula or index.
 */
public final class GradientChecker {
    private final double h;
    private final double tol;

    public GradientChecker(double h, double tol) {
        this.h = h;
        this.tol = tol;
    }

    /** Result of one check: the worst relative error and where it was. */
    public record Result(double worstError, String where) {
    }

    /**
     * Checks {@code layer} on input {@code x} ([rows, in]). Stochastic layers must be
     * deterministic between calls for this to hold (dropout: check in eval mode, or with the
     * mask fixed through {@code training=false}).
     */
    public Result check(Layer layer, Tensor x, boolean training, long seed) {
        int rows = x.rows(), in = x.cols(), out = layer.outputSize(in);
        Tensor y = Tensor.zeros(rows, out);
        Tensor state = Tensor.zeros(rows, Math.max(1, layer.stateSize(in)));
        Rng rng = new Rng(seed);
        Tensor r = Tensor.zeros(rows, out);
        for (int i = 0; i < r.size(); i++) {
            r.set(i, (float) rng.nextGaussian());
        }
        for (Parameter p : layer.parameters()) {
            p.grad().fill(0f);
        }
        layer.forward(x, y, state, training);
        Tensor dx = Tensor.zeros(rows, in);
        layer.backward(x, y, state, r, dx);
        Tensor savedState = state.copy();

        double worst = 0;
        String where = "";
        for (int i = 0; i < x.size(); i++) {
            double num = numeric(layer, x, x, i, y, state, savedState, r, training);
            double err = error(dx.get(i), num);
            if (err > worst) {
                worst = err;
                where = "input[" + i + "] analytic " + dx.get(i) + " numeric " + num;
            }
        }
        for (Parameter p : layer.parameters()) {
            Tensor grad = p.grad().copy();
            for (int i = 0; i < p.size(); i++) {
                double num = numeric(layer, x, p.value(), i, y, state, savedState, r, training);
                double err = error(grad.get(i), num);
                if (err > worst) {
                    worst = err;
                    where = p.name() + "[" + i + "] analytic " + grad.get(i) + " numeric " + num;
                }
            }
        }
        return new Result(worst, where);
    }

    /** Throws an AssertionError naming the worst element unless the check passes. */
    public void assertGradientsMatch(Layer layer, Tensor x, boolean training, long seed) {
        Result res = check(layer, x, training, seed);
        if (res.worstError() > tol) {
            throw new AssertionError("layer " + layer.name() + ": gradient mismatch " + res.worstError()
                    + " > " + tol + " at " + res.where());
        }
    }

    private double numeric(Layer layer, Tensor x, Tensor target, int i, Tensor y, Tensor state, Tensor savedState,
                           Tensor r, boolean training) {
        float orig = target.get(i);
        target.set(i, (float) (orig + h));
        double plus = loss(layer, x, y, state, savedState, r, training);
        target.set(i, (float) (orig - h));
        double minus = loss(layer, x, y, state, savedState, r, training);
        target.set(i, orig);
        return (plus - minus) / (2 * h);
    }

    private static double loss(Layer layer, Tensor x, Tensor y, Tensor state, Tensor savedState, Tensor r,
                               boolean training) {
        state.copyFrom(savedState);
        layer.forward(x, y, state, training);
        double s = 0;
        for (int i = 0; i < y.size(); i++) {
            s += (double) y.get(i) * r.get(i);
        }
        return s;
    }

    private static double error(double analytic, double numeric) {
        double scale = Math.max(1.0, Math.max(Math.abs(analytic), Math.abs(numeric)));
        return Math.abs(analytic - numeric) / scale;
    }
}
