package io.ringtmp.nn;

import io.ringtmp.tensor.Tensor;

/**
 * The buffers one batch (or microbatch) needs between a {@link Sequential}'s forward and its
 * backward: each layer's output and state, and three gradient buffers. Sized for up
 * to {@code maxRows} rows; a smaller batch uses the leading rows. Made by
 * {@link Sequential#newActivations(int)}; one per batch in flight, owned by whoever runs it.
 */
public final class Activations {
    final int maxRows;
    final Tensor[] outputs;
    final Tensor[] states;
    /** Gradient buffers: two used in turn, and a third for an activation's gradient fused into a product ({@link Sequential#backward}). */
    final Tensor[] grads = new Tensor[3];
    Tensor input;
    int rows;

    Activations(int maxRows, int[] widths, int[] stateWidths, int maxWidth) {
        this.maxRows = maxRows;
        int n = stateWidths.length;
        outputs = new Tensor[n];
        states = new Tensor[n];
        for (int i = 0; i < n; i++) {
            outputs[i] = Tensor.zeros(maxRows, widths[i + 1]);
            states[i] = Tensor.zeros(maxRows, Math.max(stateWidths[i], 1));
        }
        for (int i = 0; i < grads.length; i++) {
            grads[i] = Tensor.zeros(maxRows * maxWidth);
        }
    }

    public int maxRows() {
        return maxRows;
    }

    /** Bytes held by these buffers. */
    public long bytes() {
        long n = 0;
        for (Tensor g : grads) {
            n += g.size();
        }
        for (int i = 0; i < outputs.length; i++) {
            n += outputs[i].size() + states[i].size();
        }
        return 4 * n;
    }
}
