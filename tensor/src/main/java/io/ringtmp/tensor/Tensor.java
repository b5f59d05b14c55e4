package io.ringtmp.tensor;

import java.util.Arrays;

/**
 * A dense float32 tensor: row-major, contiguous, possibly a view into a larger array.
 *
 * <p>Every tensor can also be read as a matrix {@code [rows, cols]} where {@code rows} is the
 * first dimension and {@code cols} the product of the others; the layers use that reading. Views
 * ({@link #reshape}, {@link #rows(int, int)}) share the backing array, so writes through a view
 * are seen by its parent. A tensor is not thread-safe: it belongs to whoever created it or was
 * handed it, and the javadoc of the method that hands one over says who owns it afterwards.
 */
public final class Tensor {
    private final float[] data;
    private final int offset;
    private final int[] shape;
    private final int size;

    private Tensor(float[] data, int offset, int[] shape) {
        this.data = data;
        this.offset = offset;
        this.shape = shape;
        this.size = checkedSize(shape);
        if (offset < 0 || offset + size > data.length) {
            throw new ShapeException("tensor of shape " + Arrays.toString(shape) + " at offset " + offset
                    + " does not fit an array of " + data.length + " floats");
        }
    }

    /** A new tensor of zeros. */
    public static Tensor zeros(int... shape) {
        return new Tensor(new float[checkedSize(shape)], 0, shape.clone());
    }

    /** Wraps {@code data} without copying; the tensor and the caller share it afterwards. */
    public static Tensor wrap(float[] data, int... shape) {
        if (checkedSize(shape) != data.length) {
            throw new ShapeException("shape " + Arrays.toString(shape) + " holds " + checkedSize(shape)
                    + " floats but the array has " + data.length);
        }
        return new Tensor(data, 0, shape.clone());
    }

    /** A new tensor holding a copy of {@code values}. */
    public static Tensor of(float[] values, int... shape) {
        return wrap(values.clone(), shape);
    }

    private static int checkedSize(int[] shape) {
        if (shape.length == 0) {
            throw new ShapeException("a tensor needs at least one dimension");
        }
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new ShapeException("negative dimension in shape " + Arrays.toString(shape));
            }
            n *= d;
            if (n > Integer.MAX_VALUE - 16) {
                throw new ShapeException("shape " + Arrays.toString(shape) + " is too large for one array");
            }
        }
        return (int) n;
    }

    /** The backing array; the tensor's elements are {@code data()[offset() .. offset()+size())}. */
    public float[] data() {
        return data;
    }

    public int offset() {
        return offset;
    }

    public int size() {
        return size;
    }

    public int rank() {
        return shape.length;
    }

    public int dim(int i) {
        return shape[i];
    }

    public int[] shape() {
        return shape.clone();
    }

    /** First dimension. */
    public int rows() {
        return shape[0];
    }

    /** Product of all dimensions but the first (1 for a vector). */
    public int cols() {
        // Multiplied out rather than size / rows: a [0, n] tensor (an empty batch) still has n columns.
        int c = 1;
        for (int i = 1; i < shape.length; i++) {
            c *= shape[i];
        }
        return c;
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }

    public boolean sameShape(Tensor o) {
        return Arrays.equals(shape, o.shape);
    }

    /** Element {@code i} in row-major order. */
    public float get(int i) {
        return data[offset + i];
    }

    public void set(int i, float v) {
        data[offset + i] = v;
    }

    /** Element at row {@code r}, column {@code c} of the matrix reading. */
    public float get(int r, int c) {
        return data[offset + r * cols() + c];
    }

    public void set(int r, int c, float v) {
        data[offset + r * cols() + c] = v;
    }

    /** A view with another shape of the same size. */
    public Tensor reshape(int... newShape) {
        if (checkedSize(newShape) != size) {
            throw new ShapeException("reshape: " + shapeString() + " has " + size + " elements, "
                    + Arrays.toString(newShape) + " would have " + checkedSize(newShape));
        }
        return new Tensor(data, offset, newShape.clone());
    }

    /** A view of rows {@code [from, to)} along the first dimension. */
    public Tensor rows(int from, int to) {
        if (from < 0 || to > shape[0] || from > to) {
            throw new ShapeException("rows [" + from + ", " + to + ") outside tensor " + shapeString());
        }
        int[] s = shape.clone();
        s[0] = to - from;
        return new Tensor(data, offset + from * cols(), s);
    }

    /** A new tensor with a copy of the elements. */
    public Tensor copy() {
        float[] d = new float[size];
        System.arraycopy(data, offset, d, 0, size);
        return new Tensor(d, 0, shape.clone());
    }

    /** The elements as a new array. */
    public float[] toArray() {
        return Arrays.copyOfRange(data, offset, offset + size);
    }

    public void copyFrom(Tensor src) {
        requireSameShape("copyFrom", src);
        System.arraycopy(src.data, src.offset, data, offset, size);
    }

    public void fill(float v) {
        Arrays.fill(data, offset, offset + size, v);
    }

    /** this += o. */
    public void addInPlace(Tensor o) {
        requireSameShape("addInPlace", o);
        float[] a = data, b = o.data;
        int ao = offset, bo = o.offset;
        for (int i = 0; i < size; i++) {
            a[ao + i] += b[bo + i];
        }
    }

    /** this += alpha * x. */
    public void axpyInPlace(float alpha, Tensor x) {
        requireSameShape("axpyInPlace", x);
        float[] a = data, b = x.data;
        int ao = offset, bo = x.offset;
        for (int i = 0; i < size; i++) {
            a[ao + i] += alpha * b[bo + i];
        }
    }

    /** this *= alpha. */
    public void scaleInPlace(float alpha) {
        for (int i = offset, e = offset + size; i < e; i++) {
            data[i] *= alpha;
        }
    }

    public double sum() {
        double s = 0;
        for (int i = offset, e = offset + size; i < e; i++) {
            s += data[i];
        }
        return s;
    }

    /** Largest |this - o| over all elements. */
    public float maxAbsDiff(Tensor o) {
        requireSameShape("maxAbsDiff", o);
        float m = 0;
        for (int i = 0; i < size; i++) {
            m = Math.max(m, Math.abs(data[offset + i] - o.data[o.offset + i]));
        }
        return m;
    }

    /** Throws a {@link ShapeException} naming {@code op} and both shapes unless they are equal. */
    public void requireSameShape(String op, Tensor o) {
        if (!Arrays.equals(shape, o.shape)) {
            throw new ShapeException(op + ": shape " + o.shapeString() + " does not match " + shapeString());
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Tensor").append(shapeString()).append('[');
        for (int i = 0; i < Math.min(size, 8); i++) {
            sb.append(i == 0 ? "" : ", ").append(data[offset + i]);
        }
        return sb.append(size > 8 ? ", ...]" : "]").toString();
    }
}
