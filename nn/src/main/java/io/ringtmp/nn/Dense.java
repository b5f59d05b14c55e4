package io.ringtmp.nn;

import io.ringtmp.tensor.Blas;
import io.ringtmp.tensor.Rng;
import io.ringtmp.tensor.ShapeException;
import io.ringtmp.tensor.Tensor;

import java.util.List;

/**
 * Fully connected layer {@code y = x·W + b} with W stored {@code [in, out]} (so forward is one
 * row-major GEMM) and b of shape {@code [out]}.
 */
public final class Dense implements Layer {
    private final String name;
    private final int in;
    private final int out;
    private final Initializer init;
    private final Parameter weight;
    private final Parameter bias;

    public Dense(String name, int in, int out, Initializer init, Rng rng) {
        if (in <= 0 || out <= 0) {
            throw new IllegalArgumentException("layer " + name + ": sizes must be positive, got " + in + " -> " + out);
        }
        this.name = name;
        this.in = in;
        this.out = out;
        this.init = init;
        this.weight = Parameter.zeros(name + ".weight", in, out);
        this.bias = Parameter.zeros(name + ".bias", out);
        init.fill(weight.value(), in, out, rng);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public LayerSpec spec() {
        return LayerSpec.dense(out, init);
    }

    public int inputSize() {
        return in;
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    @Override
    public int outputSize(int inputSize) {
        if (inputSize != in) {
            throw new ShapeException("layer " + name + ": input has " + inputSize + " features, weights "
                    + weight.value().shapeString() + " expect " + in);
        }
        return out;
    }

    @Override
    public void forward(Tensor x, Tensor y, Tensor state, boolean training) {
        forwardWith(weight.value(), bias.value(), x, y);
    }

    /** Reads the given weight version in place; nothing is copied. */
    @Override
    public void forward(Tensor x, Tensor y, Tensor state, boolean training, List<Tensor> values) {
        weight.value().requireSameShape("layer " + name + ": weights", values.get(0));
        bias.value().requireSameShape("layer " + name + ": bias", values.get(1));
        forwardWith(values.get(0), values.get(1), x, y);
    }

    /**
     * {@link #forward}, reading the weight version {@code values} (null: the parameters' own),
     * then running {@code after} on each block of y as soon as the product has written it (a
     * following activation, fused: {@link Sequential} does this).
     */
    public void forward(Tensor x, Tensor y, List<Tensor> values, Blas.Epilogue after) {
        if (values == null) {
            forwardWith(weight.value(), bias.value(), x, y, after);
        } else {
            weight.value().requireSameShape("layer " + name + ": weights", values.get(0));
            bias.value().requireSameShape("layer " + name + ": bias", values.get(1));
            forwardWith(values.get(0), values.get(1), x, y, after);
        }
    }

    private void forwardWith(Tensor w, Tensor bias, Tensor x, Tensor y) {
        forwardWith(w, bias, x, y, null);
    }

    private void forwardWith(Tensor w, Tensor bias, Tensor x, Tensor y, Blas.Epilogue after) {
        // y starts as the bias in every row (row copies are memcpy), then the product adds x·W:
        // no separate pass over y.
        float[] yd = y.data(), b = bias.data();
        int bo = bias.offset();
        for (int r = 0, rows = y.rows(); r < rows; r++) {
            System.arraycopy(b, bo, yd, y.offset() + r * out, out);
        }
        Blas.gemmInto(1f, x, false, w, false, 1f, y, after);
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor state, Tensor dy, Tensor dx) {
        backwardWith(weight.value(), x, dy, dx);
    }

    /** The weights matter only for dx = dy·Wᵀ: stashed weights are read in place, nothing is copied. */
    @Override
    public void backward(Tensor x, Tensor y, Tensor state, Tensor dy, Tensor dx, List<Tensor> values) {
        weight.value().requireSameShape("layer " + name + ": stashed weights", values.get(0));
        backwardWith(values.get(0), x, dy, dx);
    }

    private void backwardWith(Tensor w, Tensor x, Tensor dy, Tensor dx) {
        backwardWith(w, x, dy, dx, null, null);
    }

    /**
     * {@link #backward}, reading the weight version {@code values} (null: the parameters' own);
     * {@code afterDx} runs on each block of dx as soon as it is written (the previous layer's
     * activation gradient, fused), and {@code consumer} (may be null) gets each block of the
     * weight and bias gradients as soon as it is final (the optimiser's update, fused). The input
     * gradient comes first, so that a consumer that updates the weights runs after their last read.
     */
    public void backward(Tensor x, Tensor dy, Tensor dx, List<Tensor> values, Blas.Epilogue afterDx, GradientConsumer consumer) {
        Tensor w = weight.value();
        if (values != null) {
            w.requireSameShape("layer " + name + ": stashed weights", values.get(0));
            w = values.get(0);
        }
        backwardWith(w, x, dy, dx, afterDx, consumer);
    }

    private void backwardWith(Tensor w, Tensor x, Tensor dy, Tensor dx, Blas.Epilogue afterDx, GradientConsumer consumer) {
        if (dx != null) {
            Blas.gemmInto(1f, dy, false, w, true, 0f, dx, afterDx);
        }
        Tensor wg = weight.grad();
        Blas.gemmInto(1f, x, true, dy, false, 1f, wg, consumer == null ? null
                : (r0, r1, c0, c1) -> {
                    if (c0 == 0 && c1 == out) {
                        consumer.consume(weight, r0 * out, r1 * out);
                    } else {
                        for (int r = r0; r < r1; r++) {
                            consumer.consume(weight, r * out + c0, r * out + c1);
                        }
                    }
                });
        // The bias gradient is a column sum of dy, i.e. onesᵀ·dy: one more product, at BLAS speed.
        int rows = dy.rows();
        Blas.gemmInto(1f, ones(rows), false, dy, false, 1f, bias.grad().reshape(1, out), consumer == null ? null
                : (r0, r1, c0, c1) -> consumer.consume(bias, c0, c1));
        if (consumer != null) {
            consumer.consumed(weight);
            consumer.consumed(bias);
        }
    }

    private Tensor ones = Tensor.zeros(1);

    /** A [1, rows] row of ones (grown as needed; layers are confined to one thread). */
    private Tensor ones(int rows) {
        if (ones.size() < rows) {
            ones = Tensor.zeros(rows);
            ones.fill(1f);
        }
        return ones.rows(0, rows).reshape(1, rows);
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(weight, bias);
    }

    @Override
    public LayerCost cost(int inputSize) {
        long mac = (long) in * out;
        // forward: x·W + b; backward: xᵀ·dy, dy·Wᵀ and the bias sum.
        return new LayerCost(2 * mac + out, 4 * mac + out, 4L * (mac + out), 4L * out);
    }
}
