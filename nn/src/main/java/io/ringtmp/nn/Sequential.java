package io.ringtmp.nn;

import io.ringtmp.tensor.ShapeException;
import io.ringtmp.tensor.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Layers applied in order. A model, or a contiguous slice of one (a pipeline stage, made by
 * {@link #slice}, sharing the layers and so their parameters).
 *
 * <p>Usage, one training step:
 * <pre>{@code
 * Activations acts = model.newActivations(128);           // once
 * Tensor logits = model.forward(x, acts, true);
 * double loss = SoftmaxCrossEntropy.lossAndGradInto(logits, y, 0, 1f / x.rows(), dLogits);
 * model.backward(dLogits, acts, false);                   // adds to every parameter's grad
 * optimizer.step(lr);                                   // updates, and zeroes the gradients
 * }</pre>
 * A Sequential is confined to one thread at a time; the tensors it returns are views into the
 * {@link Activations} passed in and stay valid until that object is used again.
 */
public final class Sequential {
    private final int inputSize;
    private final List<Layer> layers;
    private final int[] widths;
    private final int[] stateWidths;
    private final List<Parameter> parameters;
    /** Index in {@link #parameters} of each layer's first parameter. */
    private final int[] firstParameter;

    public Sequential(int inputSize, List<Layer> layers) {
        this.inputSize = inputSize;
        this.layers = List.copyOf(layers);
        this.widths = new int[layers.size() + 1];
        this.stateWidths = new int[layers.size()];
        widths[0] = inputSize;
        List<Parameter> ps = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            Layer l = layers.get(i);
            widths[i + 1] = l.outputSize(widths[i]);
            stateWidths[i] = l.stateSize(widths[i]);
            ps.addAll(l.parameters());
        }
        this.parameters = Collections.unmodifiableList(ps);
        this.firstParameter = new int[layers.size()];
        for (int i = 0, k = 0; i < layers.size(); i++) {
            firstParameter[i] = k;
            k += layers.get(i).parameters().size();
        }
    }

    public int inputSize() {
        return inputSize;
    }

    public int outputSize() {
        return widths[widths.length - 1];
    }

    public List<Layer> layers() {
        return layers;
    }

    public int size() {
        return layers.size();
    }

    /** Layers {@code [from, to)} as a model of their own, sharing the layer objects. */
    public Sequential slice(int from, int to) {
        if (from < 0 || to > layers.size() || from >= to) {
            throw new IllegalArgumentException("slice [" + from + ", " + to + ") of a model with " + layers.size() + " layers");
        }
        return new Sequential(widths[from], layers.subList(from, to));
    }

    /** All parameters, in layer order. */
    public List<Parameter> parameters() {
        return parameters;
    }

    public long parameterCount() {
        long n = 0;
        for (Parameter p : parameters) {
            n += p.size();
        }
        return n;
    }

    public Activations newActivations(int maxRows) {
        int maxWidth = 0;
        for (int w : widths) {
            maxWidth = Math.max(maxWidth, w);
        }
        return new Activations(maxRows, widths, stateWidths, maxWidth);
    }

    /**
     * Runs every layer on {@code x} ([rows, inputSize]); returns the output, a view into
     * {@code acts}. {@code x} must stay unchanged until {@link #backward} for this batch.
     */
    public Tensor forward(Tensor x, Activations acts, boolean training) {
        return forward(x, acts, training, null);
    }

    /**
     * {@link #forward(Tensor, Activations, boolean)} with {@code values} (one per parameter, in
     * {@link #parameters()} order) read in place of the parameters' values: one of the weight
     * versions a pipeline stage keeps. Null: the parameters' own values.
     */
    public Tensor forward(Tensor x, Activations acts, boolean training, List<Tensor> values) {
        if (values != null && values.size() != parameters.size()) {
            throw new IllegalArgumentException("values: " + values.size() + " tensors for " + parameters.size() + " parameters");
        }
        int rows = x.rows();
        if (x.cols() != inputSize) {
            throw new ShapeException("model input " + x.shapeString() + " should have " + inputSize + " features per sample");
        }
        if (rows > acts.maxRows) {
            throw new ShapeException("batch of " + rows + " rows exceeds the " + acts.maxRows + " the activations were made for");
        }
        acts.input = x;
        acts.rows = rows;
        Tensor in = x.rank() == 2 ? x : x.reshape(rows, inputSize);
        for (int i = 0; i < layers.size(); i++) {
            Tensor out = acts.outputs[i].rows(0, rows);
            Layer layer = layers.get(i);
            if (layer instanceof Dense dense && i + 1 < layers.size() && layers.get(i + 1) instanceof Activation act) {
                // The activation runs on each block of the product as soon as it is written, while
                // it is in cache; both outputs are kept, as unfused.
                Tensor actOut = acts.outputs[i + 1].rows(0, rows);
                Tensor pre = out;
                dense.forward(in, out, values == null ? null : values.subList(firstParameter[i], firstParameter[i] + 2),
                        (r0, r1, c0, c1) -> act.forwardBlock(pre, actOut, r0, r1, c0, c1));
                in = actOut;
                i++;
                continue;
            }
            if (values == null || layer.parameters().isEmpty()) {
                layer.forward(in, out, acts.states[i].rows(0, rows), training);
            } else {
                layer.forward(in, out, acts.states[i].rows(0, rows), training,
                        values.subList(firstParameter[i], firstParameter[i] + layer.parameters().size()));
            }
            in = out;
        }
        return in;
    }

    /**
     * Back-propagates {@code dOut} (dL/d output, [rows, outputSize]) through the batch last run
     * forward with {@code acts}, adding to every parameter's gradient. Returns dL/d input (a
     * view into {@code acts}) when {@code needInputGrad}, else null.
     */
    public Tensor backward(Tensor dOut, Activations acts, boolean needInputGrad) {
        return backward(dOut, acts, needInputGrad, null, null);
    }

    /**
     * {@link #backward(Tensor, Activations, boolean)} with {@code values} (one per parameter, in
     * {@link #parameters()} order) read in place of the parameters' values: the weights the
     * forward used, kept by weight stashing. Null: the parameters' own values.
     */
    public Tensor backward(Tensor dOut, Activations acts, boolean needInputGrad, List<Tensor> values) {
        return backward(dOut, acts, needInputGrad, values, null);
    }

    /**
     * {@link #backward(Tensor, Activations, boolean)}, handing each parameter's gradient to
     * {@code consumer} as soon as it is final (the single-node trainer's fused optimiser step,
     * {@code Optimizer.Step}); layers that do not hand theirs over leave it in the gradient as
     * usual. A consumer that changes the weights sees them after their last read in this pass.
     */
    public Tensor backward(Tensor dOut, Activations acts, boolean needInputGrad, GradientConsumer consumer) {
        return backward(dOut, acts, needInputGrad, null, consumer);
    }

    private Tensor backward(Tensor dOut, Activations acts, boolean needInputGrad, List<Tensor> values, GradientConsumer consumer) {
        if (values != null && values.size() != parameters.size()) {
            throw new IllegalArgumentException("values: " + values.size() + " tensors for " + parameters.size() + " parameters");
        }
        int rows = acts.rows;
        if (dOut.rows() != rows || dOut.cols() != outputSize()) {
            throw new ShapeException("gradient " + dOut.shapeString() + " does not match the model output [" + rows + ", " + outputSize() + "]");
        }
        Tensor dy = dOut;
        int dyBuf = -1; // which of acts.grads holds dy (-1: none, dOut is the caller's)
        for (int i = layers.size() - 1; i >= 0; i--) {
            Tensor x = i == 0 ? acts.input.reshape(rows, inputSize) : acts.outputs[i - 1].rows(0, rows);
            Tensor dx = null;
            int dxBuf = -1;
            if (i > 0 || needInputGrad) {
                dxBuf = freeBuffer(dyBuf, -1);
                dx = acts.grads[dxBuf].rows(0, rows * widths[i]).reshape(rows, widths[i]);
            }
            Layer layer = layers.get(i);
            if (layer instanceof Dense dense && (dx != null || consumer != null)) {
                List<Tensor> v = values == null ? null : values.subList(firstParameter[i], firstParameter[i] + 2);
                if (dx != null && i >= 1 && layers.get(i - 1) instanceof Activation act && (i - 1 > 0 || needInputGrad)) {
                    // The previous activation's gradient runs on each block of dx as soon as the
                    // product has written it, into a third buffer: dy is still being read by the
                    // other blocks and by the weight-gradient product.
                    Tensor actX = i - 1 == 0 ? acts.input.reshape(rows, inputSize) : acts.outputs[i - 2].rows(0, rows);
                    Tensor actY = acts.outputs[i - 1].rows(0, rows);
                    int dActBuf = freeBuffer(dyBuf, dxBuf);
                    Tensor dAct = acts.grads[dActBuf].rows(0, rows * widths[i - 1]).reshape(rows, widths[i - 1]);
                    Tensor dActY = dx;
                    dense.backward(x, dy, dx, v, (r0, r1, c0, c1) -> act.backwardBlock(actX, actY, dActY, dAct, r0, r1, c0, c1), consumer);
                    dy = dAct;
                    dyBuf = dActBuf;
                    i--;
                    continue;
                }
                dense.backward(x, dy, dx, v, null, consumer);
            } else if (values == null || layer.parameters().isEmpty()) {
                layer.backward(x, acts.outputs[i].rows(0, rows), acts.states[i].rows(0, rows), dy, dx);
            } else {
                layer.backward(x, acts.outputs[i].rows(0, rows), acts.states[i].rows(0, rows), dy, dx,
                        values.subList(firstParameter[i], firstParameter[i] + layer.parameters().size()));
            }
            dy = dx;
            dyBuf = dxBuf;
        }
        return dy;
    }

    /**
     * Chooses the matrix-product kernels for a training step of {@code rows} rows now (see
     * {@link io.ringtmp.tensor.Blas#prepare}): each dense layer's forward x·W, weight gradient
     * xᵀ·dy, bias gradient onesᵀ·dy and, except for the first layer, input gradient dy·Wᵀ.
     */
    public void prepareKernels(int rows) {
        for (int i = 0; i < layers.size(); i++) {
            if (layers.get(i) instanceof Dense d) {
                int in = widths[i], out = widths[i + 1];
                io.ringtmp.tensor.Blas.prepare(false, false, rows, out, in);
                io.ringtmp.tensor.Blas.prepare(true, false, in, out, rows);
                io.ringtmp.tensor.Blas.prepare(false, false, 1, out, rows);
                if (i > 0) {
                    io.ringtmp.tensor.Blas.prepare(false, true, rows, in, out);
                }
            }
        }
    }

    /** The first of the gradient buffers that is neither {@code a} nor {@code b}. */
    private static int freeBuffer(int a, int b) {
        for (int j = 0; ; j++) {
            if (j != a && j != b) {
                return j;
            }
        }
    }

    /** The summed cost of all layers. */
    public LayerCost cost() {
        LayerCost c = LayerCost.ZERO;
        for (int i = 0; i < layers.size(); i++) {
            c = c.plus(layers.get(i).cost(widths[i]));
        }
        return c;
    }

    /** Each layer's cost, in order. */
    public List<LayerCost> layerCosts() {
        List<LayerCost> out = new ArrayList<>(layers.size());
        for (int i = 0; i < layers.size(); i++) {
            out.add(layers.get(i).cost(widths[i]));
        }
        return out;
    }

    /** The spec that rebuilds this model's architecture. */
    public ModelSpec spec() {
        List<LayerSpec> specs = new ArrayList<>(layers.size());
        for (Layer l : layers) {
            specs.add(l.spec());
        }
        return new ModelSpec(inputSize, specs);
    }
}
