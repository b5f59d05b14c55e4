package io.ringtmp.ring;

import io.ringtmp.nn.Activations;
import io.ringtmp.nn.Sequential;
import io.ringtmp.nn.SoftmaxCrossEntropy;
import io.ringtmp.nn.optim.Optimizer;
import io.ringtmp.nn.optim.OptimizerConfig;
import io.ringtmp.tensor.ShapeException;
import io.ringtmp.tensor.Tensor;

import java.util.List;

/**
 * One pipeline stage: a contiguous slice of the model, its optimiser, and a buffer slot per
 * microbatch in flight. The same object serves every schedule: gpipe and 1f1b accumulate the
 * gradients of a mini-batch's microbatches and call {@link #step} once; async steps after each
 * microbatch, with weight stashing ({@code stashing = true}, PipeDream): a stage keeps several
 * weight versions, {@link #forward} records the version it used, and {@link #backward} reads
 * that version, so a gradient always matches its forward. An update that finds the current
 * version still in use by a pending slot writes the new weights into a free version instead of
 * over the old ones (the old version stays as the stash: nothing is copied); otherwise it
 * updates in place. The parameters' own values are one of the versions; {@link
 * #syncParameters} brings the current weights back into them when no microbatch is pending.
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
    private final List<io.ringtmp.nn.Parameter> params;
    /** The parameters' own values: one of the versions. */
    private final List<Tensor> own;
    /** The version forwards use now. */
    private List<Tensor> current;
    /** The version each slot's forward used, until its backward; null for a free slot. */
    private final List<Tensor>[] slotWeights;
    /** Versions no slot uses and that are not current. */
    private final java.util.ArrayDeque<List<Tensor>> freeVersions = new java.util.ArrayDeque<>();
    private long versionsKept;
    private int versionsAllocated;

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
        this.own = params.stream().map(io.ringtmp.nn.Parameter::value).toList();
        this.current = own;
        @SuppressWarnings("unchecked")
        List<Tensor>[] sw = new List[slotCount];
        this.slotWeights = sw;
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
            // Every weight version an update may need, allocated (and its pages touched) now:
            // the pending slots use at most slotCount versions, the current one among them, so
            // with the parameters' own values slotCount more always leave one free to update
            // into. (The ring's last stage runs each backward right after its forward, so it
            // never keeps a version; were it to, it would allocate then.) Growing the pool while
            // training stalled a stage 0.5-0.8 s per new 67 MB version (humongous allocations,
            // heap growth) under a half-core quota; the partitioner's memory model counts these
            // versions already.
            for (int v = 0; v < slotCount; v++) {
                freeVersions.add(newVersion());
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
        slotWeights[slot] = current;
        return layers.forward(x, slots[slot], true, orNull(current));
    }

    /**
     * Forward without training (evaluation) of {@code x} with the current weights, into
     * {@code acts} (not a slot's).
     */
    public Tensor evalForward(Tensor x, Activations acts) {
        return layers.forward(x, acts, false, orNull(current));
    }

    /**
     * Copies the current weights into the parameters' own values, where checkpoints and
     * callers of {@link #layers()} read them, and makes those current again. Only when no
     * microbatch is between forward and backward (the pipe is drained).
     *
     * @throws IllegalStateException when a slot is pending
     */
    public void syncParameters() {
        for (int s = 0; s < slotWeights.length; s++) {
            if (slotWeights[s] != null) {
                throw new IllegalStateException("slot " + s + " is between forward and backward: weights cannot be synced now");
            }
        }
        if (current != own) {
            for (int i = 0; i < own.size(); i++) {
                own.get(i).copyFrom(current.get(i));
            }
            freeVersions.removeIf(v -> v == own); // no pending slot: own was free
            freeVersions.add(current);
            current = own;
        }
    }

    /** Slots this stage has. */
    public int slotCount() {
        return slots.length;
    }

    /** Bytes of activations one slot holds. */
    public long slotBytes() {
        return slots.length == 0 ? 0 : slots[0].bytes();
    }

    /**
     * Weight versions kept for pending backwards so far (async): updates that wrote the new
     * weights into another version because a pending slot still used the current one.
     */
    public long versionsKept() {
        return versionsKept;
    }

    /** {@code version} as the layers and the optimiser take it: null for the parameters' own values (their plain path). */
    private List<Tensor> orNull(List<Tensor> version) {
        return version == own ? null : version;
    }

    private List<Tensor> newVersion() {
        List<Tensor> v = new java.util.ArrayList<>(params.size());
        for (io.ringtmp.nn.Parameter p : params) {
            v.add(Tensor.zeros(p.value().shape()));
        }
        versionsAllocated++;
        return List.copyOf(v);
    }

    /** Weight versions allocated besides the parameters' own (one per slot up front on a stashing stage but the last). */
    int versionsAllocated() {
        return versionsAllocated;
    }

    /** The weights forwards use now (the parameters' own values, or another version after an async update). */
    List<Tensor> currentWeights() {
        return current;
    }

    /** Backward of a slot with the weights its forward used; frees that version when nothing else uses it. */
    private Tensor backwardWithStash(int slot, Tensor dOut) {
        List<Tensor> w = slotWeights[slot];
        slotWeights[slot] = null;
        Tensor dIn = layers.backward(dOut, slots[slot], !first, orNull(w));
        if (w != null && w != current && !inUse(w)) {
            freeVersions.add(w); // an older version no pending slot uses any more
        }
        return dIn;
    }

    private boolean inUse(List<Tensor> version) {
        for (List<Tensor> w : slotWeights) {
            if (w == version) {
                return true;
            }
        }
        return false;
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

    /** Applies the accumulated gradients (and zeroes them) to the current weights, in place. */
    public void step(double lr) {
        optimizer.stepInto(lr, orNull(current), orNull(current));
    }

    /**
     * Async: applies the accumulated gradients. When a pending slot (forward done, backward to
     * come) used the current weights, the new weights go to a free version and the current one
     * stays as that slot's stash; otherwise the update is in place.
     */
    public void stepKeepingVersions(double lr) {
        if (!stashing || !inUse(current)) {
            step(lr);
            return;
        }
        List<Tensor> into = freeVersions.poll();
        if (into == null) {
            into = newVersion();
        }
        optimizer.stepInto(lr, orNull(current), orNull(into));
        current = into;
        versionsKept++;
    }
}
