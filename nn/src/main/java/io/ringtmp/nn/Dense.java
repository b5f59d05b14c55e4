package io.ringtmp.nn;

import io.ringtmp.tensor.Blas;
import io.ringtmp.tensor.Parallel;
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
        Blas.gemmInto(1f, x, false, weight.value(), false, 0f, y);
        int rows = y.rows();
        Parallel.forRange(rows, 8, (long) rows * out >= Activation.PARALLEL_MIN ? Integer.MAX_VALUE : 1, (r0, r1) -> {
            float[] yd = y.data(), b = bias.value().data();
            int bo = bias.value().offset();
            for (int r = r0; r < r1; r++) {
                int base = y.offset() + r * out;
                for (int j = 0; j < out; j++) {
                    yd[base + j] += b[bo + j];
                }
            }
        });
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor state, Tensor dy, Tensor dx) {
        Blas.gemmInto(1f, x, true, dy, false, 1f, weight.grad());
        int rows = dy.rows();
        // Column ranges, so that each thread sums whole columns and no reduction is needed.
        Parallel.forRange(out, 16, (long) rows * out >= Activation.PARALLEL_MIN ? Integer.MAX_VALUE : 1, (c0, c1) -> {
            float[] g = bias.grad().data(), d = dy.data();
            int go = bias.grad().offset();
            for (int r = 0; r < rows; r++) {
                int base = dy.offset() + r * out;
                for (int j = c0; j < c1; j++) {
                    g[go + j] += d[base + j];
                }
            }
        });
        if (dx != null) {
            Blas.gemmInto(1f, dy, false, weight.value(), true, 0f, dx);
        }
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
