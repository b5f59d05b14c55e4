package io.ringtmp.nn;

import io.ringtmp.tensor.Tensor;

/**
 * Flattens each sample to a vector. Tensors reach layers already read as {@code [batch,
 * features]}, so this copies; it exists so that model descriptions written for image inputs
 * ({@code [N, 28, 28]}) state the flattening explicitly.
 */
public final class Flatten implements Layer {
    private final String name;

    public Flatten(String name) {
        this.name = name;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public LayerSpec spec() {
        return LayerSpec.of("flatten");
    }

    @Override
    public int outputSize(int inputSize) {
        return inputSize;
    }

    @Override
    public void forward(Tensor x, Tensor y, Tensor state, boolean training) {
        System.arraycopy(x.data(), x.offset(), y.data(), y.offset(), x.size());
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor state, Tensor dy, Tensor dx) {
        if (dx != null) {
            System.arraycopy(dy.data(), dy.offset(), dx.data(), dx.offset(), dy.size());
        }
    }

    @Override
    public LayerCost cost(int inputSize) {
        return new LayerCost(0, 0, 0, 4L * inputSize);
    }
}
