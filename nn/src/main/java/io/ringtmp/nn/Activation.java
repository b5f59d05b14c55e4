package io.ringtmp.nn;

import io.ringtmp.tensor.Parallel;
import io.ringtmp.tensor.Tensor;

import java.util.Locale;

/**
 * Element-wise activation layers. Each derivative is computed from the saved output y where the
 * function allows it (ReLU, tanh, sigmoid) and from the input x otherwise (GELU).
 */
public final class Activation implements Layer {
    /** The functions on offer. */
    public enum Kind {
        RELU, TANH, SIGMOID,
        /** GELU with the tanh approximation (PyTorch's {@code approximate='tanh'}). */
        GELU;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Kind parse(String s) {
            for (Kind k : values()) {
                if (k.id().equalsIgnoreCase(s)) {
                    return k;
                }
            }
            throw new IllegalArgumentException("unknown activation '" + s + "' (expected relu, tanh, sigmoid or gelu)");
        }
    }

    private static final float SQRT_2_OVER_PI = (float) Math.sqrt(2 / Math.PI);
    private static final float GELU_C = 0.044715f;
    /** Tensors at least this large are processed by all compute threads. */
    static final int PARALLEL_MIN = 1 << 15;

    private final String name;
    private final Kind kind;

    public Activation(String name, Kind kind) {
        this.name = name;
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public LayerSpec spec() {
        return LayerSpec.of(kind.id());
    }

    @Override
    public int outputSize(int inputSize) {
        return inputSize;
    }

    @Override
    public void forward(Tensor x, Tensor y, Tensor state, boolean training) {
        x.requireSameShape("layer " + name + " output", y);
        int n = x.size();
        Parallel.forRange(n, 1024, n >= PARALLEL_MIN ? Integer.MAX_VALUE : 1, (from, to) -> forwardRange(x, y, from, to));
    }

    /**
     * y = f(x) on rows {@code [r0, r1)}, columns {@code [c0, c1)} of the matrices x and y (of
     * equal shape): a block of the product that made x, fused into it ({@link Sequential}).
     */
    public void forwardBlock(Tensor x, Tensor y, int r0, int r1, int c0, int c1) {
        int cols = x.cols();
        if (c0 == 0 && c1 == cols) {
            forwardRange(x, y, r0 * cols, r1 * cols);
        } else {
            for (int r = r0; r < r1; r++) {
                forwardRange(x, y, r * cols + c0, r * cols + c1);
            }
        }
    }

    /** {@link #backward} on rows {@code [r0, r1)}, columns {@code [c0, c1)}: fused into the product that made dy. */
    public void backwardBlock(Tensor x, Tensor y, Tensor dy, Tensor dx, int r0, int r1, int c0, int c1) {
        int cols = x.cols();
        if (c0 == 0 && c1 == cols) {
            backwardRange(x, y, dy, dx, r0 * cols, r1 * cols);
        } else {
            for (int r = r0; r < r1; r++) {
                backwardRange(x, y, dy, dx, r * cols + c0, r * cols + c1);
            }
        }
    }

    private void forwardRange(Tensor x, Tensor y, int from, int to) {
        float[] a = x.data(), b = y.data();
        int ao = x.offset(), bo = y.offset();
        if (kind == Kind.RELU && ao == 0 && bo == 0) {
            // Same-index form: the JIT vectorises it only when both arrays use the same index.
            for (int i = from; i < to; i++) {
                b[i] = Math.max(a[i], 0f);
            }
            return;
        }
        switch (kind) {
            case RELU -> {
                for (int i = from; i < to; i++) {
                    b[bo + i] = Math.max(a[ao + i], 0f);
                }
            }
            case TANH -> {
                for (int i = from; i < to; i++) {
                    b[bo + i] = (float) Math.tanh(a[ao + i]);
                }
            }
            case SIGMOID -> {
                for (int i = from; i < to; i++) {
                    b[bo + i] = (float) (1.0 / (1.0 + Math.exp(-a[ao + i])));
                }
            }
            case GELU -> {
                for (int i = from; i < to; i++) {
                    float v = a[ao + i];
                    b[bo + i] = 0.5f * v * (1f + (float) Math.tanh(SQRT_2_OVER_PI * (v + GELU_C * v * v * v)));
                }
            }
        }
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor state, Tensor dy, Tensor dx) {
        if (dx == null) {
            return;
        }
        int n = x.size();
        Parallel.forRange(n, 1024, n >= PARALLEL_MIN ? Integer.MAX_VALUE : 1, (from, to) -> backwardRange(x, y, dy, dx, from, to));
    }

    private void backwardRange(Tensor x, Tensor y, Tensor dy, Tensor dx, int from, int to) {
        float[] xs = x.data(), ys = y.data(), g = dy.data(), o = dx.data();
        int xo = x.offset(), yo = y.offset(), go = dy.offset(), oo = dx.offset();
        if (kind == Kind.RELU && yo == 0 && go == 0 && oo == 0) {
            for (int i = from; i < to; i++) {
                int mask = -Float.floatToRawIntBits(ys[i]) >> 31;
                o[i] = Float.intBitsToFloat(Float.floatToRawIntBits(g[i]) & mask);
            }
            return;
        }
        switch (kind) {
            case RELU -> {
                // Branch-free (the sign of y is a coin flip, so a branch mispredicts half the
                // time): y = max(x, 0) is never negative, so its bits are > 0 exactly when y > 0,
                // and (-bits) >> 31 is then all ones, else zero.
                for (int i = from; i < to; i++) {
                    int mask = -Float.floatToRawIntBits(ys[yo + i]) >> 31;
                    o[oo + i] = Float.intBitsToFloat(Float.floatToRawIntBits(g[go + i]) & mask);
                }
            }
            case TANH -> {
                for (int i = from; i < to; i++) {
                    float t = ys[yo + i];
                    o[oo + i] = g[go + i] * (1f - t * t);
                }
            }
            case SIGMOID -> {
                for (int i = from; i < to; i++) {
                    float sg = ys[yo + i];
                    o[oo + i] = g[go + i] * sg * (1f - sg);
                }
            }
            case GELU -> {
                for (int i = from; i < to; i++) {
                    float v = xs[xo + i];
                    float u = SQRT_2_OVER_PI * (v + GELU_C * v * v * v);
                    float t = (float) Math.tanh(u);
                    float du = SQRT_2_OVER_PI * (1f + 3f * GELU_C * v * v);
                    o[oo + i] = g[go + i] * (0.5f * (1f + t) + 0.5f * v * (1f - t * t) * du);
                }
            }
        }
    }

    @Override
    public LayerCost cost(int inputSize) {
        int perElement = switch (kind) {
            case RELU -> 1;
            case TANH, SIGMOID -> 10;
            case GELU -> 20;
        };
        return new LayerCost((long) perElement * inputSize, (long) perElement * inputSize, 0, 4L * inputSize);
    }
}
