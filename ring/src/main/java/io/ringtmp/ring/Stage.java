package io.ringtmp.ring;

import io.ringtmp.nn.Activations;
import io.ringtmp.nn.Sequential;
import io.ringtmp.nn.SoftmaxCrossEntropy;
import io.ringtmp.nn.optim.Optimizer;
import io.ringtmp.nn.optim.OptimizerConfig;
import io.ringtmp.tensor.ShapeException;
import io.ringtmp.tensor.Tensor;

/**
 * One pipeline stage: a contiguous slice of the model, its optimiser, and a buffer slot per
 * microbatch in flight. The same object serves every schedule: gpipe and 1f1b accumulate the
 * gradients of a mini-batch's microbatches and call {@link #step} once; async steps after each
 * microbatch (with weight stashing, in a later part).
 *
 * <p>Order of calls per microbatch: {@code forward(slot, x)}, then — on the last stage —
 * {@code lossAndBackward(slot, labels, ...)}, or — on the others — {@code backward(slot, dOut)}
 * with the gradient the next stage sent back. A slot's input tensor must stay untouched until
 * its backward. Confined to the stage's event-loop thread.
 */
public final class Stage {
    private final Sequential layers;
    private final Optimizer optimizer;
    private final Activations[] slots;
    private final Tensor[] dLogits;
    private final Tensor[] inputGrad;
    private final boolean first;
    private final boolean last;

    /**
     * @param layers        this stage's layers (built with {@code ModelSpec.build(seed, from, to)})
     * @param maxMicrobatch rows per microbatch at most
     * @param slotCount     microbatches in flight at most
     * @param first         whether this is stage 0 (no input gradient to compute)
     * @param last          whether this is the last stage (computes the loss)
     */
    public Stage(Sequential layers, OptimizerConfig optimizer, int maxMicrobatch, int slotCount, boolean first, boolean last) {
        this.layers = layers;
        this.optimizer = Optimizer.create(optimizer, layers.parameters());
        this.slots = new Activations[slotCount];
        this.dLogits = new Tensor[last ? slotCount : 0];
        this.inputGrad = new Tensor[slotCount];
        for (int i = 0; i < slotCount; i++) {
            slots[i] = layers.newActivations(maxMicrobatch);
            if (last) {
                dLogits[i] = Tensor.zeros(maxMicrobatch, layers.outputSize());
            }
        }
        this.first = first;
        this.last = last;
    }

    public Sequential layers() {
        return layers;
    }

    public Optimizer optimizer() {
        return optimizer;
    }

    /** Runs the stage forward on microbatch input {@code x} in {@code slot}; returns the output (a view into the slot). */
    public Tensor forward(int slot, Tensor x) {
        return layers.forward(x, slots[slot], true);
    }

    /**
     * Last stage only: softmax cross-entropy of the slot's output against {@code labels[offset
     * ..]}, scaled by {@code gradScale} (1 / mini-batch size, so microbatches accumulate to the
     * mini-batch's mean), then backward. Returns the summed loss; the input gradient is
     * {@link #inputGradient(int)} when this stage is not also the first.
     */
    public double lossAndBackward(int slot, Tensor output, int[] labels, int offset, float gradScale) {
        if (!last) {
            throw new IllegalStateException("only the last stage computes the loss");
        }
        Tensor d = dLogits[slot].rows(0, output.rows());
        double loss = SoftmaxCrossEntropy.lossAndGradInto(output, labels, offset, gradScale, d);
        inputGrad[slot] = layers.backward(d, slots[slot], !first);
        return loss;
    }

    /** The gradient with respect to the slot's input after its backward (null on the first stage). */
    public Tensor inputGradient(int slot) {
        return inputGrad[slot];
    }

    /** Backward of the slot given dL/d(output) from the next stage; returns dL/d(input), or null on the first stage. */
    public Tensor backward(int slot, Tensor dOut) {
        if (last) {
            throw new IllegalStateException("the last stage starts backward from the loss");
        }
        if (dOut.cols() != layers.outputSize()) {
            throw new ShapeException("stage gradient " + dOut.shapeString() + " does not match the stage output width " + layers.outputSize());
        }
        inputGrad[slot] = layers.backward(dOut, slots[slot], !first);
        return inputGrad[slot];
    }

    /** Applies the accumulated gradients (and zeroes them). */
    public void step(double lr) {
        optimizer.step(lr);
    }
}
