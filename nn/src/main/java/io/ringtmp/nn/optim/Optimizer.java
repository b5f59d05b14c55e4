package io.ringtmp.nn.optim;

import io.ringtmp.nn.GradientConsumer;
import io.ringtmp.nn.Parameter;
import io.ringtmp.tensor.Parallel;
import io.ringtmp.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Updates a fixed list of parameters from their gradients, keeping per-parameter state
 * (momentum, Adam's moments). Works equally on a whole model, a pipeline stage's parameters or a
 * parameter-server shard. Confined to one thread. A step <em>consumes</em> the gradients: it
 * zeroes each one in the same pass that reads it (a separate zeroing pass costs a full sweep of
 * memory per update), so the next backward starts accumulating from zero.
 *
 * <pre>{@code
 * Optimizer opt = Optimizer.create(OptimizerConfig.sgd(0.9, false, 0), model.parameters());
 * opt.step(schedule.lr(step));
 * }</pre>
 *
 * <p>Formulas (those of PyTorch's SGD and Adam, so results compare):
 * SGD: {@code g += wd·w; v = μ·v + g (v = g on the first step); w -= lr·(nesterov ? g + μ·v : v)}.
 * Adam: {@code g += wd·w; m = β1·m + (1-β1)·g; v = β2·v + (1-β2)·g²;
 * w -= lr · (m / (1-β1^t)) / (sqrt(v / (1-β2^t)) + ε)}.
 */
public final class Optimizer {
    /** Parameters at least this large are updated by all compute threads. */
    private static final int PARALLEL_MIN = 1 << 16;
    private final OptimizerConfig config;
    private final List<Parameter> params;
    private final List<Tensor> first;
    private final List<Tensor> second;
    /** Each parameter's position, by identity (two parameters may be equal as records). */
    private final java.util.IdentityHashMap<Parameter, Integer> index = new java.util.IdentityHashMap<>();
    private long steps;

    private Optimizer(OptimizerConfig config, List<Parameter> params) {
        this.config = config;
        this.params = List.copyOf(params);
        this.first = new ArrayList<>(params.size());
        this.second = new ArrayList<>(params.size());
        for (int i = 0; i < this.params.size(); i++) {
            index.put(this.params.get(i), i);
        }
        boolean needsFirst = config.kind() == OptimizerConfig.Kind.ADAM || config.momentum() > 0;
        for (Parameter p : params) {
            if (needsFirst) {
                first.add(Tensor.zeros(p.value().shape()));
            }
            if (config.kind() == OptimizerConfig.Kind.ADAM) {
                second.add(Tensor.zeros(p.value().shape()));
            }
        }
    }

    public static Optimizer create(OptimizerConfig config, List<Parameter> params) {
        return new Optimizer(config, params);
    }

    public OptimizerConfig config() {
        return config;
    }

    /** Updates taken so far. */
    public long steps() {
        return steps;
    }

    /** Applies one update with learning rate {@code lr}, in place. */
    public void step(double lr) {
        stepInto(lr, null, null);
    }

    /**
     * Starts one in-place update with learning rate {@code lr} that the backward pass applies
     * block by block as each gradient block is final (pass the step to
     * {@code Sequential.backward(dOut, acts, needInputGrad, step)}), then {@link Step#finish}
     * updates whatever was not handed over. The new weights, state and consumed gradients are bit
     * for bit those of {@link #step}: the same arithmetic per element, done while the block of
     * the gradient is still in cache rather than in a separate pass over all parameters.
     *
     * <pre>{@code
     * Optimizer.Step s = optimizer.begin(lr);
     * model.backward(dLogits, acts, false, s);
     * s.finish();
     * }</pre>
     * Only where nothing else adds to the gradients before the update (the single-node trainer; not
     * microbatches that accumulate).
     */
    public Step begin(double lr) {
        steps++;
        return new Step(lr);
    }

    /**
     * One update in progress ({@link #begin}). {@link #consume} may run on several compute
     * threads at once for disjoint blocks; {@link #consumed} and {@link #finish} on the owner's.
     */
    public final class Step implements GradientConsumer {
        private final double lr;
        private final boolean[] done = new boolean[params.size()];
        private boolean finished;

        private Step(double lr) {
            this.lr = lr;
        }

        @Override
        public void consume(Parameter p, int from, int to) {
            int i = indexOf(p);
            if (i < 0) {
                return; // not this optimiser's: left in its gradient, as unfused
            }
            update(i, null, null, lr, from, to);
        }

        @Override
        public void consumed(Parameter p) {
            int i = indexOf(p);
            if (i >= 0) {
                done[i] = true;
            }
        }

        /** Updates every parameter the backward pass did not hand over, as {@link #step} would. */
        public void finish() {
            if (finished) {
                throw new IllegalStateException("step already finished");
            }
            finished = true;
            for (int i = 0; i < params.size(); i++) {
                if (!done[i]) {
                    updateAll(i, null, null, lr);
                }
            }
        }
    }

    private int indexOf(Parameter p) {
        Integer i = index.get(p);
        return i == null ? -1 : i;
    }

    /**
     * Applies one update with learning rate {@code lr}, reading the weights from {@code from}
     * and writing the new weights to {@code into} (one tensor per parameter, in order, each of
     * its parameter's shape); the parameters' own values are not touched unless they are among
     * them. {@code from == into} updates those in place; null stands for the parameters' own
     * values. The optimiser's state and the gradients are updated and consumed as by
     * {@link #step}, and the new weights are bit for bit the ones {@code step} would make. A
     * pipeline stage uses this to keep the weights an earlier forward used while the update
     * goes to another buffer (weight stashing without a copy).
     */
    public void stepInto(double lr, List<Tensor> from, List<Tensor> into) {
        if (from != null && from.size() != params.size() || into != null && into.size() != params.size()) {
            throw new IllegalArgumentException("from/into hold " + (from == null ? "-" : from.size()) + "/" + (into == null ? "-" : into.size())
                    + " tensors for " + params.size() + " parameters");
        }
        steps++;
        for (int i = 0; i < params.size(); i++) {
            Parameter p = params.get(i);
            Tensor wIn = from == null ? p.value() : from.get(i);
            Tensor wOut = into == null ? p.value() : into.get(i);
            p.value().requireSameShape("parameter " + p.name() + " weights to update from", wIn);
            p.value().requireSameShape("parameter " + p.name() + " weights to update into", wOut);
            updateAll(i, wIn, wOut, lr);
        }
    }

    /** Updates all of parameter {@code i}, large ones on all compute threads (the update is memory-bound). */
    private void updateAll(int i, Tensor wIn, Tensor wOut, double lr) {
        int parts = params.get(i).size() >= PARALLEL_MIN ? Integer.MAX_VALUE : 1;
        Parallel.forRange(params.get(i).size(), 1024, parts, (lo, hi) -> update(i, wIn, wOut, lr, lo, hi));
    }

    /** Updates elements {@code [lo, hi)} of parameter {@code i} (null weights: the parameter's own). */
    private void update(int i, Tensor wInOrNull, Tensor wOutOrNull, double lr, int lo, int hi) {
        Parameter p = params.get(i);
        Tensor wIn = wInOrNull == null ? p.value() : wInOrNull;
        Tensor wOut = wOutOrNull == null ? p.value() : wOutOrNull;
        Tensor m = first.isEmpty() ? null : first.get(i);
        Tensor v = second.isEmpty() ? null : second.get(i);
        switch (config.kind()) {
            case SGD -> sgd(p, wIn, wOut, m, (float) lr, lo, hi);
            case ADAM -> adam(p, wIn, wOut, m, v, lr, lo, hi);
        }
    }

    private void sgd(Parameter p, Tensor wInT, Tensor wOutT, Tensor v, float lr, int from, int to) {
        float[] w = wInT.data(), wOut = wOutT.data(), g = p.grad().data();
        int wo = wInT.offset(), oo = wOutT.offset(), go = p.grad().offset();
        float wd = (float) config.weightDecay(), mu = (float) config.momentum();
        if (v == null) {
            for (int i = from; i < to; i++) {
                wOut[oo + i] = w[wo + i] - lr * (g[go + i] + wd * w[wo + i]);
                g[go + i] = 0f;
            }
            return;
        }
        float[] m = v.data();
        if (wo == 0 && oo == 0 && go == 0) {
            sgdMomentum(w, wOut, g, m, lr, mu, wd, steps == 1, config.nesterov(), from, to);
            return;
        }
        // Views with offsets (rare): the same update, index by index.
        for (int i = from; i < to; i++) {
            float gi = g[go + i] + wd * w[wo + i];
            g[go + i] = 0f;
            float vi = steps == 1 ? gi : mu * m[i] + gi;
            m[i] = vi;
            wOut[oo + i] = w[wo + i] - lr * (config.nesterov() ? gi + mu * vi : vi);
        }
    }

    /**
     * SGD with momentum on arrays indexed from 0, one branch-free loop per case: the JIT
     * vectorises these only when every array is indexed by the same {@code i} (with different
     * offsets it must assume the arrays may overlap), and the update is memory-bound and runs
     * on every parameter every step (measured 3.5-4.7x faster than the offset form).
     */
    private static void sgdMomentum(float[] w, float[] wOut, float[] g, float[] m, float lr, float mu, float wd, boolean first,
                                    boolean nesterov, int from, int to) {
        if (first) {
            for (int i = from; i < to; i++) {
                float gi = g[i] + wd * w[i];
                g[i] = 0f;
                m[i] = gi;
                wOut[i] = w[i] - lr * (nesterov ? gi + mu * gi : gi);
            }
        } else if (nesterov) {
            for (int i = from; i < to; i++) {
                float gi = g[i] + wd * w[i];
                g[i] = 0f;
                float vi = mu * m[i] + gi;
                m[i] = vi;
                wOut[i] = w[i] - lr * (gi + mu * vi);
            }
        } else {
            for (int i = from; i < to; i++) {
                float gi = g[i] + wd * w[i];
                g[i] = 0f;
                float vi = mu * m[i] + gi;
                m[i] = vi;
                wOut[i] = w[i] - lr * vi;
            }
        }
    }

    private void adam(Parameter p, Tensor wInT, Tensor wOutT, Tensor mT, Tensor vT, double lr, int from, int to) {
        float[] w = wInT.data(), wOut = wOutT.data(), g = p.grad().data(), m = mT.data(), v = vT.data();
        int wo = wInT.offset(), oo = wOutT.offset(), go = p.grad().offset();
        float b1 = (float) config.beta1(), b2 = (float) config.beta2(), eps = (float) config.epsilon();
        float wd = (float) config.weightDecay();
        double bc1 = 1 - Math.pow(config.beta1(), steps), bc2 = 1 - Math.pow(config.beta2(), steps);
        float stepSize = (float) (lr / bc1);
        float invSqrtBc2 = (float) (1 / Math.sqrt(bc2));
        if (wo == 0 && oo == 0 && go == 0) {
            // Same-index form, so that the JIT vectorises it (see sgdMomentum).
            for (int i = from; i < to; i++) {
                float gi = g[i] + wd * w[i];
                g[i] = 0f;
                float mi = b1 * m[i] + (1 - b1) * gi;
                float vi = b2 * v[i] + (1 - b2) * gi * gi;
                m[i] = mi;
                v[i] = vi;
                wOut[i] = w[i] - stepSize * mi / ((float) Math.sqrt(vi) * invSqrtBc2 + eps);
            }
            return;
        }
        for (int i = from; i < to; i++) {
            float gi = g[go + i] + wd * w[wo + i];
            g[go + i] = 0f;
            float mi = b1 * m[i] + (1 - b1) * gi;
            float vi = b2 * v[i] + (1 - b2) * gi * gi;
            m[i] = mi;
            v[i] = vi;
            wOut[oo + i] = w[wo + i] - stepSize * mi / ((float) Math.sqrt(vi) * invSqrtBc2 + eps);
        }
    }

    /**
     * The optimiser's state tensors, in a fixed order (for checkpoints): the first moments
     * (momentum) of every parameter, then Adam's second moments.
     */
    public List<Tensor> state() {
        List<Tensor> s = new ArrayList<>(first);
        s.addAll(second);
        return s;
    }

    /** Restores {@link #steps()} after loading {@link #state()} from a checkpoint. */
    public void restoreSteps(long steps) {
        this.steps = steps;
    }
}
