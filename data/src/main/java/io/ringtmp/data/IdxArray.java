package io.ringtmp.data;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * The content of one IDX file of unsigned bytes: its dimensions and its values in row-major
 * order. {@code values[i] & 0xff} is element {@code i}. The arrays are owned by this record and
 * must not be modified; {@link #dims()} returns a copy.
 *
 * @param file the file it was read from, for error messages
 */
public record IdxArray(Path file, int[] dims, byte[] values) {
    public IdxArray {
        dims = dims.clone();
    }

    @Override
    public int[] dims() {
        return dims.clone();
    }

    /** Number of items: the first dimension. */
    public int count() {
        return dims[0];
    }

    /** Values per item: the product of all dimensions but the first (1 for a label file). */
    public int itemSize() {
        int s = 1;
        for (int i = 1; i < dims.length; i++) {
            s *= dims[i];
        }
        return s;
    }

    /** Element {@code i} as an int in 0..255. */
    public int unsigned(int i) {
        return values[i] & 0xff;
    }

    @Override
    public String toString() {
        return "IdxArray[" + file + ", dims " + Arrays.toString(dims) + "]";
    }
}
