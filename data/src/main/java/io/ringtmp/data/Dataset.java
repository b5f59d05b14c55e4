package io.ringtmp.data;

import io.ringtmp.tensor.Tensor;
import java.util.Arrays;
import java.util.Objects;

/**
 * An immutable in-memory labelled set: {@code size()} examples, each a row of
 * {@code featureSize()} float32 features and an integer label in {@code 0 .. numClasses()-1}.
 *
 * <p>Batching copies rows with {@link #gatherInto}, which allocates nothing:
 * <pre>{@code
 * Tensor x = Tensor.zeros(batch, data.featureSize());
 * int[] y = new int[batch];
 * int[] order = new EpochOrder(seed, data.size()).permutation(epoch);
 * for (int from = 0; from + batch <= order.length; from += batch) {
 *     data.gatherInto(order, from, batch, x, y);
 *     // train on x, y
 * }
 * }</pre>
 *
 * <p>Immutable and safe to read from many threads at once. {@link #subset} shares the feature
 * storage with its parent; nothing writes to it after construction.
 */
public final class Dataset {
    private final String name;
    private final Tensor features;
    private final int[] labels;
    private final int numClasses;

    private Dataset(String name, Tensor features, int[] labels, int numClasses) {
        this.name = name;
        this.features = features;
        this.labels = labels;
        this.numClasses = numClasses;
    }

    /**
     * A data set over {@code features} ({@code [N, d]}) and {@code labels} (length N, each in
     * {@code 0 .. numClasses-1}). Takes ownership of {@code features}: the caller must not write
     * to it afterwards. The labels are copied.
     *
     * @throws IllegalArgumentException naming the parameter if the shapes disagree or a label
     *     is out of range
     */
    public static Dataset of(String name, Tensor features, int[] labels, int numClasses) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(labels, "labels");
        if (features.rank() != 2) {
            throw new IllegalArgumentException("data set " + name + ": features must have shape [N, d], got "
                    + features.shapeString());
        }
        if (features.rows() != labels.length) {
            throw new IllegalArgumentException("data set " + name + ": features have " + features.rows()
                    + " rows but there are " + labels.length + " labels");
        }
        if (numClasses < 1) {
            throw new IllegalArgumentException("data set " + name + ": numClasses must be at least 1, got "
                    + numClasses);
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= numClasses) {
                throw new IllegalArgumentException("data set " + name + ": label " + labels[i] + " at index " + i
                        + " is outside 0.." + (numClasses - 1));
            }
        }
        return new Dataset(name, features, labels.clone(), numClasses);
    }

    public String name() {
        return name;
    }

    /** Number of examples N. */
    public int size() {
        return labels.length;
    }

    /** Number of features per example d. */
    public int featureSize() {
        return features.dim(1);
    }

    public int numClasses() {
        return numClasses;
    }

    /** Label of example {@code i}. */
    public int label(int i) {
        return labels[i];
    }

    /** A copy of all labels. */
    public int[] labels() {
        return labels.clone();
    }

    /**
     * The features, shape {@code [N, d]}. Shared, not copied: read it, never write to it (for
     * example to evaluate a whole set, or take a {@code rows(from, to)} view).
     */
    public Tensor features() {
        return features;
    }

    /** How many examples carry each label; index = class. */
    public int[] classCounts() {
        int[] counts = new int[numClasses];
        for (int y : labels) {
            counts[y]++;
        }
        return counts;
    }

    /**
     * Copies examples {@code indices[from .. from+count)} into rows {@code 0 .. count-1} of
     * {@code xOut} and {@code yOut[0 .. count-1]}, allocating nothing. {@code xOut} must have
     * shape {@code [rows, featureSize()]} with {@code rows >= count} (a full-size batch buffer
     * may take a short last batch); rows past {@code count} are left untouched.
     *
     * @throws IllegalArgumentException naming the parameter if a range, shape or index is wrong
     */
    public void gatherInto(int[] indices, int from, int count, Tensor xOut, int[] yOut) {
        if (from < 0 || count < 0 || from > indices.length - count) {
            throw new IllegalArgumentException("gatherInto: indices[" + from + ", " + from + "+" + count
                    + ") is outside an index array of length " + indices.length);
        }
        int d = featureSize();
        if (xOut.rank() != 2 || xOut.dim(1) != d || xOut.dim(0) < count) {
            throw new IllegalArgumentException("gatherInto: xOut has shape " + xOut.shapeString() + ", expected ["
                    + count + " or more, " + d + "]");
        }
        if (yOut.length < count) {
            throw new IllegalArgumentException("gatherInto: yOut has length " + yOut.length + ", expected "
                    + count + " or more");
        }
        float[] src = features.data();
        int srcOff = features.offset();
        float[] dst = xOut.data();
        int dstOff = xOut.offset();
        int n = labels.length;
        for (int k = 0; k < count; k++) {
            int i = indices[from + k];
            if (i < 0 || i >= n) {
                throw new IllegalArgumentException("gatherInto: indices[" + (from + k) + "] = " + i
                        + " is outside data set " + name + " of size " + n);
            }
            System.arraycopy(src, srcOff + i * d, dst, dstOff + k * d, d);
            yOut[k] = labels[i];
        }
    }

    /** Examples {@code [from, to)} as a data set sharing this one's features; named {@code name[from:to]}. */
    public Dataset subset(int from, int to) {
        if (from < 0 || to > size() || from > to) {
            throw new IllegalArgumentException("subset: [" + from + ", " + to + ") is outside data set " + name
                    + " of size " + size());
        }
        return new Dataset(name + "[" + from + ":" + to + "]", features.rows(from, to),
                Arrays.copyOfRange(labels, from, to), numClasses);
    }

    @Override
    public String toString() {
        return "Dataset[" + name + ", " + size() + " x " + featureSize() + ", " + numClasses + " classes]";
    }
}
