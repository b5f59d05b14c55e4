package io.ringtmp.nn;

import io.ringtmp.tensor.Tensor;

import java.util.List;

/**
 * One layer of a {@link Sequential} model, with its forward and backward pass side by side.
 *
 * <p>Tensors are read as matrices {@code [batch, features]}. A layer keeps no activations of its
 * own: the caller passes the input {@code x}, the output buffer {@code y}, and a per-sample
 * {@code state} buffer of {@link #stateSize} floats (dropout's mask; empty for most layers) to
 * {@link #forward}, and the same three back to {@link #backward}. This is what lets a pipeline
 * stage keep several microbatches in flight with one set of buffers each.
 *
 * <p>Order of calls: {@code forward(x, y, s)} then, any time later and with the same tensors
 * untouched, {@code backward(x, y, s, dy, dx)}. Backward <em>adds</em> to the parameter
 * gradients (so microbatches accumulate) and overwrites {@code dx}. A layer is confined to one
 * thread at a time.
 */
public interface Layer {
    /** Unique within the model, e.g. {@code fc1} or {@code relu2}. */
    String name();

    /** The layer's description, from which {@link LayerSpec#build} makes an equal layer. */
    LayerSpec spec();

    /** Features per sample of the output, given those of the input. */
    int outputSize(int inputSize);

    /** Floats per sample that forward leaves for backward besides x and y. */
    default int stateSize(int inputSize) {
        return 0;
    }

    /** y = f(x). {@code training} switches dropout and the like on. */
    void forward(Tensor x, Tensor y, Tensor state, boolean training);

    /**
     * {@link #forward}, reading {@code values} (one per parameter, in {@link #parameters()}
     * order) wherever it would read the parameters' values: one of several weight versions a
     * pipeline stage keeps. The default copies the values in and back; a layer that reads its
     * weights directly overrides it and copies nothing.
     */
    default void forward(Tensor x, Tensor y, Tensor state, boolean training, List<Tensor> values) {
        withValues(this, values, () -> forward(x, y, state, training));
    }

    /**
     * Given dL/dy, adds dL/dparameters to the gradients and writes dL/dx into {@code dx}
     * ({@code dx} may be null when nobody needs it, e.g. for the first layer).
     */
    void backward(Tensor x, Tensor y, Tensor state, Tensor dy, Tensor dx);

    /**
     * {@link #backward}, reading {@code values} (one per parameter, in {@link #parameters()}
     * order) wherever it would read the parameters' values: the weights an earlier forward used
     * (weight stashing). Gradients still go to the parameters. The default copies the values in
     * and back; a layer that reads its weights only for dx overrides it and copies nothing.
     */
    default void backward(Tensor x, Tensor y, Tensor state, Tensor dy, Tensor dx, List<Tensor> values) {
        withValues(this, values, () -> backward(x, y, state, dy, dx));
    }

    /** Runs {@code pass} with {@code values} copied into the layer's parameters, and the parameters' own values back after it. */
    private static void withValues(Layer layer, List<Tensor> values, Runnable pass) {
        List<Parameter> ps = layer.parameters();
        List<Tensor> saved = new java.util.ArrayList<>(ps.size());
        for (int i = 0; i < ps.size(); i++) {
            saved.add(ps.get(i).value().copy());
            ps.get(i).value().copyFrom(values.get(i));
        }
        try {
            pass.run();
        } finally {
            for (int i = 0; i < ps.size(); i++) {
                ps.get(i).value().copyFrom(saved.get(i));
            }
        }
    }

    default List<Parameter> parameters() {
        return List.of();
    }

    /** Cost per sample for an input of {@code inputSize} features. */
    LayerCost cost(int inputSize);
}
