package io.ringtmp.nn;

import io.ringtmp.tensor.Tensor;

/**
 * A trainable tensor and its gradient, which has the same shape. Backward passes add to
 * {@link #grad()}; whoever runs the optimiser zeroes it after the update. Owned by its layer.
 *
 * @param name  unique within a model, e.g. {@code fc1.weight}
 * @param value the weights
 * @param grad  the accumulated gradient
 */
public record Parameter(String name, Tensor value, Tensor grad) {
    public Parameter {
        value.requireSameShape("parameter " + name + " gradient", grad);
    }

    public static Parameter zeros(String name, int... shape) {
        return new Parameter(name, Tensor.zeros(shape), Tensor.zeros(shape));
    }

    public int size() {
        return value.size();
    }
}
