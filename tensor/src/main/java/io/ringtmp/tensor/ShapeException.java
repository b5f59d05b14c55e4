package io.ringtmp.tensor;

/**
 * A tensor had the wrong shape for an operation. Permanent: the message names the operation and
 * both shapes, e.g. {@code matmul: inner dimensions differ: a [128, 784] vs b [512, 10]}.
 */
public final class ShapeException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public ShapeException(String message) {
        super(message);
    }
}
