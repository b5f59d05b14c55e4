package io.ringtmp.data;

import io.ringtmp.data.internal.Streams;
import io.ringtmp.tensor.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;

/**
 * Reads IDX files, the format of MNIST and Fashion-MNIST: a 4-byte magic number
 * {@code 00 00 TT DD} (TT the element type, DD the number of dimensions), DD big-endian 32-bit
 * dimension sizes, then the elements in row-major order. Files may be raw or gzipped; gzip is
 * recognised by its magic bytes, whatever the file's name. Only element type {@code 0x08}
 * (unsigned byte) is supported. Every defect (wrong magic number, wrong dimension count, short
 * or over-long data, images and labels that disagree, labels out of range) is a
 * {@link DataException} naming the file and the expected and actual values. Stateless and
 * thread-safe.
 */
public final class IdxReader {
    /** IDX element type of unsigned bytes, the only one supported. */
    public static final int UNSIGNED_BYTE = 0x08;
    /** Magic number of an image file: unsigned bytes, 3 dimensions [count, rows, cols]. */
    public static final int IMAGES_MAGIC = 0x00000803;
    /** Magic number of a label file: unsigned bytes, 1 dimension [count]. */
    public static final int LABELS_MAGIC = 0x00000801;

    private IdxReader() {}

    /** Reads an unsigned-byte IDX file with any number of dimensions. */
    public static IdxArray read(Path file) {
        return read(file, -1, "an IDX file");
    }

    /** Reads an image file: unsigned bytes, 3 dimensions {@code [count, rows, cols]}. */
    public static IdxArray readImages(Path file) {
        return read(file, 3, "images");
    }

    /** Reads a label file: unsigned bytes, 1 dimension {@code [count]}. */
    public static IdxArray readLabels(Path file) {
        return read(file, 1, "labels");
    }

    /**
     * Reads a labelled set from an image file and a label file: features of shape
     * {@code [count, rows * cols]} with pixels scaled from 0..255 to [0, 1], labels checked to
     * lie in {@code 0 .. numClasses-1}.
     *
     * @throws DataException if either file is malformed, their counts differ or a label is out
     *     of range
     */
    public static Dataset readDataset(String name, Path images, Path labels, int numClasses) {
        Objects.requireNonNull(name, "name");
        if (numClasses < 1) {
            throw new IllegalArgumentException("numClasses must be at least 1, got " + numClasses);
        }
        IdxArray x = readImages(images);
        IdxArray y = readLabels(labels);
        if (x.count() != y.count()) {
            throw new DataException("image and label counts disagree: " + images + " has " + x.count()
                    + " images, " + labels + " has " + y.count() + " labels");
        }
        int n = x.count();
        int[] ys = new int[n];
        for (int i = 0; i < n; i++) {
            int label = y.unsigned(i);
            if (label >= numClasses) {
                throw new DataException(labels + ": label " + label + " at index " + i + " is outside 0.."
                        + (numClasses - 1) + " (" + numClasses + " classes)");
            }
            ys[i] = label;
        }
        byte[] px = x.values();
        float[] features = new float[px.length];
        for (int i = 0; i < px.length; i++) {
            features[i] = (px[i] & 0xff) / 255f;
        }
        return Dataset.of(name, Tensor.wrap(features, n, x.itemSize()), ys, numClasses);
    }

    private static IdxArray read(Path file, int expectedDims, String what) {
        Objects.requireNonNull(file, "file");
        try (InputStream in = Streams.openUncompressed(file)) {
            return parse(in, file, expectedDims, what);
        } catch (NoSuchFileException e) {
            throw new DataException(file + ": no such file", e);
        } catch (IOException e) {
            // A gzip stream that ends early or is damaged lands here too.
            throw new DataException(file + ": cannot read " + what + ": " + e, e);
        }
    }

    private static IdxArray parse(InputStream in, Path file, int expectedDims, String what) throws IOException {
        byte[] head = in.readNBytes(4);
        if (head.length < 4) {
            throw new DataException(file + ": truncated: expected a 4-byte IDX magic number, found "
                    + head.length + " bytes");
        }
        int magic = ((head[0] & 0xff) << 24) | ((head[1] & 0xff) << 16) | ((head[2] & 0xff) << 8) | (head[3] & 0xff);
        int type = head[2] & 0xff;
        int ndims = head[3] & 0xff;
        int expectedMagic = (UNSIGNED_BYTE << 8) | (expectedDims > 0 ? expectedDims : ndims);
        String expectation = expectedDims > 0
                ? String.format("0x%08X (%s: unsigned bytes, %d dimension%s)", expectedMagic, what, expectedDims,
                        expectedDims == 1 ? "" : "s")
                : String.format("0x000008XX (unsigned bytes, XX dimensions)");
        if (head[0] != 0 || head[1] != 0) {
            throw new DataException(String.format("%s: not an IDX file: magic number 0x%08X, expected %s",
                    file, magic, expectation));
        }
        if (type != UNSIGNED_BYTE) {
            throw new DataException(String.format(
                    "%s: magic number 0x%08X, expected %s: element type 0x%02X (%s) is not supported, only 0x08"
                            + " (unsigned byte)", file, magic, expectation, type, typeName(type)));
        }
        if (expectedDims > 0 && ndims != expectedDims) {
            throw new DataException(String.format(
                    "%s: magic number 0x%08X, expected %s: the file has %d dimension%s, %s have %d", file, magic,
                    expectation, ndims, ndims == 1 ? "" : "s", what, expectedDims));
        }
        if (ndims == 0) {
            throw new DataException(String.format("%s: magic number 0x%08X declares 0 dimensions", file, magic));
        }
        byte[] dimBytes = in.readNBytes(4 * ndims);
        if (dimBytes.length < 4 * ndims) {
            throw new DataException(file + ": truncated header: expected " + (4 + 4 * ndims) + " bytes for "
                    + ndims + " dimensions, found " + (4 + dimBytes.length));
        }
        int[] dims = new int[ndims];
        long total = 1;
        for (int d = 0; d < ndims; d++) {
            int o = 4 * d;
            long v = ((long) (dimBytes[o] & 0xff) << 24) | ((dimBytes[o + 1] & 0xff) << 16)
                    | ((dimBytes[o + 2] & 0xff) << 8) | (dimBytes[o + 3] & 0xff);
            if (v > Integer.MAX_VALUE) {
                throw new DataException(file + ": dimension " + d + " is " + v + ", larger than supported");
            }
            dims[d] = (int) v;
            total *= v;
            if (total > Integer.MAX_VALUE - 16) {
                throw new DataException(file + ": dimensions " + Arrays.toString(Arrays.copyOf(dims, d + 1))
                        + "... hold more than " + (Integer.MAX_VALUE - 16) + " bytes, too large for one array");
            }
        }
        byte[] values = new byte[(int) total];
        int got = in.readNBytes(values, 0, values.length);
        if (got < values.length) {
            throw new DataException(file + ": truncated: dimensions " + Arrays.toString(dims) + " need "
                    + values.length + " bytes of data, found " + got);
        }
        long extra = countRest(in);
        if (extra > 0) {
            throw new DataException(file + ": dimensions " + Arrays.toString(dims) + " need " + values.length
                    + " bytes of data, found " + (values.length + extra) + " (" + extra + " bytes too many)");
        }
        return new IdxArray(file, dims, values);
    }

    private static long countRest(InputStream in) throws IOException {
        long n = 0;
        byte[] buf = new byte[8192];
        for (int r; (r = in.read(buf)) > 0; ) {
            n += r;
        }
        return n;
    }

    private static String typeName(int type) {
        return switch (type) {
            case 0x08 -> "unsigned byte";
            case 0x09 -> "signed byte";
            case 0x0B -> "short";
            case 0x0C -> "int";
            case 0x0D -> "float";
            case 0x0E -> "double";
            default -> "unknown";
        };
    }
}
