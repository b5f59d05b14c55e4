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
 * microbatch, with weight stashing ({@code stashing = true}): {@link #forward} records the weight
 * version it used, an update first copies the weights that pending slots used (once per
 * version), and {@link #backward} reads that copy in place of the weights (PipeDream; nothing is
 * copied back), so the update lands on the newest weights with a gradient that matches its forward.
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
    private final boolean stashing;
    private final java.util.List<io.ringtmp.nn.Parameter> params;
    private final long[] slotVersion;
    private final Tensor[][] stash;
    private long version;
    private long stashCopies;
    private int stashBuffers;
    private final java.util.ArrayDeque<Tensor[]> stashPool = new java.util.ArrayDeque<>();

    /**
     * @param layers        this stage's layers (built with {@code ModelSpec.build(seed, from, to)})
     * @param maxMicrobatch rows per microbatch at most
     * @param slotCount     microbatches in flight at most
     * @param first         whether this is stage 0 (no input gradient to compute)
     * @param last          whether this is the last stage (computes the loss)
     */
    public Stage(Sequential layers, OptimizerConfig optimizer, int maxMicrobatch, int slotCount, boolean first, boolean last) {
        this(layers, optimizer, maxMicrobatch, slotCount, first, last, false);
    }

    /**
     * @param stashing keep the weights each slot's forward used for its backward (async). The
     *                 first stage never needs to: its backward computes no input gradient, and a
     *                 layer's weight gradient depends only on its input and output gradient.
     */
    public Stage(Sequential layers, OptimizerConfig optimizer, int maxMicrobatch, int slotCount, boolean first, boolean last,
                 boolean stashing) {
        this.layers = layers;
        this.params = layers.parameters();
        this.stashing = stashing && !first && !params.isEmpty(); // nothing to stash without weights
        this.slotVersion = new long[slotCount];
        this.stash = new Tensor[slotCount][];
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
        if (this.stashing && !last) {
            // Every weight version a stash may need, allocated (and its pages touched) now: at most
            // one version per slot is pending at once. (The ring's last stage runs each backward
            // right after its forward, so it never stashes; were it to, it would allocate then.) Growing the pool while training stalled a
            // stage 0.5-0.8 s per new 67 MB version (humongous allocations, heap growth) under a
            // half-core quota; the partitioner's memory model counts these versions already.
            for (int v = 0; v < slotCount; v++) {
                stashPool.add(newStashVersion());
            }
        }
    }

    public Sequential layers() {
        return layers;
    }

    public Optimizer optimizer() {
        return optimizer;
    }

    /** Runs the stage forward on microbatch input {@code x} in {@code slot}; returns the output (a view into the slot). */
    public Tensor forward(int slot, Tensor x) {
        slotVersion[slot] = version;
        return layers.forward(x, slots[slot], true);
    }

    /** Slots this stage has. */
    public int slotCount() {
        return slots.length;
    }

    /** Bytes of activations one slot holds. */
    public long slotBytes() {
        return slots.length == 0 ? 0 : slots[0].bytes();
    }

    /** Weight versions copied for stashing so far (async); 0 when no backward ever saw newer weights. */
    public long stashCopies() {
        return stashCopies;
    }

    /**
     * Before an update: every slot whose forward used the current weights and whose backward is
     * still to come keeps a copy of them (copied once per version, shared by such slots).
     */
    private void stashBeforeUpdate(boolean[] pending) {
        Tensor[] copy = null;
        for (int s = 0; s < slots.length; s++) {
            if (pending[s] && slotVersion[s] == version && stash[s] == null) {
                if (copy == null) {
                    // Reuse a released version's buffers (the constructor made one per slot): weights
                    // are large, and a fresh copy per update would be a humongous allocation (and
                    // its zeroing) per microbatch.
                    copy = stashPool.poll();
                    if (copy == null) {
                        copy = newStashVersion();
                    }
                    for (int i = 0; i < copy.length; i++) {
                        copy[i].copyFrom(params.get(i).value());
                    }
                    stashCopies++;
                }
                stash[s] = copy;
            }
        }
    }

    private Tensor[] newStashVersion() {
        Tensor[] copy = new Tensor[params.size()];
        for (int i = 0; i < copy.length; i++) {
            copy[i] = Tensor.zeros(params.get(i).value().shape());
        }
        stashBuffers++;
        return copy;
    }

    /** Weight versions allocated for stashing (one per slot up front on a stashing stage but the last). */
    int stashBuffers() {
        return stashBuffers;
    }

    /** Backward of a slot, reading the weights its forward used when they have changed since. */
    private Tensor backwardWithStash(int slot, Tensor dOut) {
        Tensor[] old = stash[slot];
        stash[slot] = null;
        Tensor dIn = layers.backward(dOut, slots[slot], !first, old == null ? null : java.util.Arrays.asList(old));
        if (old != null && java.util.Arrays.stream(stash).noneMatch(o -> o == old)) {
            stashPool.add(old); // no other pending slot uses this version any more
        }
        return dIn;
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
        inputGrad[slot] = backwardWithStash(slot, d);
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
        inputGrad[slot] = backwardWithStash(slot, dOut);
        return inputGrad[slot];
    }

    /** Applies the accumulated gradients (and zeroes them). */
    public void step(double lr) {
        optimizer.step(lr);
        version++;
    }

    /**
     * Async: applies the accumulated gradients, first stashing the current weights for the
     * slots in {@code pending} (forward done, backward to come) that used them.
     */
    public void step(double lr, boolean[] pending) {
        if (stashing) {
            stashBeforeUpdate(pending);
        }
        step(lr);
    }
}
