package io.ringtmp.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Loads an MNIST-layout directory: {@value #TRAIN_IMAGES}, {@value #TRAIN_LABELS},
 * {@value #TEST_IMAGES} and {@value #TEST_LABELS}, each raw or gzipped with a {@code .gz}
 * suffix (the raw file wins if both exist). Fashion-MNIST uses the same names and format.
 * Features are pixels scaled to [0, 1], shape {@code [N, rows * cols]}.
 */
public final class IdxDataset {
    public static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
    public static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
    public static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
    public static final String TEST_LABELS = "t10k-labels-idx1-ubyte";
    /** Classes of MNIST and Fashion-MNIST. */
    public static final int DEFAULT_CLASSES = 10;

    private IdxDataset() {}

    /** {@link #load(Path, int)} with 10 classes. */
    public static TrainTest load(Path dir) {
        return load(dir, DEFAULT_CLASSES);
    }

    /**
     * Reads the four files in {@code dir}. The sets are named after the directory:
     * {@code mnist/train} and {@code mnist/test} for {@code data/mnist}.
     *
     * @throws DataException naming the directory and the names looked for if a file is
     *     missing, or naming the file if one is malformed
     */
    public static TrainTest load(Path dir, int numClasses) {
        Objects.requireNonNull(dir, "dir");
        if (numClasses < 1) {
            throw new IllegalArgumentException("numClasses must be at least 1, got " + numClasses);
        }
        if (!Files.isDirectory(dir)) {
            throw new DataException("data directory " + dir.toAbsolutePath() + " does not exist or is not a"
                    + " directory; expected one holding " + TRAIN_IMAGES + ", " + TRAIN_LABELS + ", " + TEST_IMAGES
                    + " and " + TEST_LABELS + " (each may be gzipped, with .gz)");
        }
        String base = dir.toAbsolutePath().normalize().getFileName() == null ? "idx"
                : dir.toAbsolutePath().normalize().getFileName().toString();
        Dataset train = IdxReader.readDataset(base + "/train", find(dir, TRAIN_IMAGES), find(dir, TRAIN_LABELS),
                numClasses);
        Dataset test = IdxReader.readDataset(base + "/test", find(dir, TEST_IMAGES), find(dir, TEST_LABELS),
                numClasses);
        if (train.featureSize() != test.featureSize()) {
            throw new DataException("data directory " + dir + ": training images have " + train.featureSize()
                    + " pixels each, test images " + test.featureSize());
        }
        return new TrainTest(train, test);
    }

    /**
     * The file {@code name} or {@code name.gz} in {@code dir}, raw first.
     *
     * @throws DataException naming the directory and both names if neither exists
     */
    public static Path find(Path dir, String name) {
        Path raw = dir.resolve(name);
        if (Files.isRegularFile(raw)) {
            return raw;
        }
        Path gz = dir.resolve(name + ".gz");
        if (Files.isRegularFile(gz)) {
            return gz;
        }
        throw new DataException("data directory " + dir.toAbsolutePath() + ": missing " + name + " (looked for "
                + name + " and " + name + ".gz)");
    }
}
