package io.ringtmp.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Turns the CLI's {@code --data} value into a training and a test set. Three forms:
 * <ul>
 *   <li>{@code synthetic:teacher?...} or {@code synthetic:blobs?...}: generated, see
 *       {@link SyntheticSpec};</li>
 *   <li>{@code mnist}: {@code dataDir/mnist}, fetched and verified with {@link MnistFetcher}
 *       first (a no-op when the files are already there and verify);</li>
 *   <li>anything else: a directory of IDX files in the MNIST layout (see {@link IdxDataset}),
 *       taken as a path, or else as a name under {@code dataDir} (so {@code fashion-mnist} finds
 *       {@code dataDir/fashion-mnist}).</li>
 * </ul>
 */
public final class DataSources {
    /** The name that is fetched when missing. */
    public static final String MNIST = "mnist";

    private DataSources() {}

    /**
     * Opens {@code source}; progress of a fetch goes to {@code log}.
     *
     * @throws DataException if the spec, directory or files are wrong, naming them
     * @throws FetchException if MNIST must be fetched and cannot be
     */
    public static TrainTest open(String source, Path dataDir, Consumer<String> log) {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(log, "log");
        if (SyntheticSpec.isSynthetic(source)) {
            return SyntheticSpec.parse(source).generate();
        }
        if (source.equals(MNIST)) {
            return IdxDataset.load(new MnistFetcher(dataDir.resolve(MNIST), log).fetch());
        }
        Path asPath = Path.of(source);
        if (Files.isDirectory(asPath)) {
            return IdxDataset.load(asPath);
        }
        Path underDataDir = dataDir.resolve(source);
        if (!source.contains("/") && Files.isDirectory(underDataDir)) {
            return IdxDataset.load(underDataDir);
        }
        throw new DataException("data source '" + source + "': expected 'mnist', a synthetic:teacher?... or"
                + " synthetic:blobs?... spec, or a directory of IDX files; neither " + asPath.toAbsolutePath()
                + (source.contains("/") ? "" : " nor " + underDataDir.toAbsolutePath()) + " is a directory");
    }
}
