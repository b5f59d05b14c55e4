package io.ringtmp.data;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * A synthetic data set named by a spec string, as the CLI takes it:
 * <pre>
 * synthetic:teacher?n=10000&amp;inputs=784&amp;classes=10&amp;seed=1
 * synthetic:blobs?n=2000&amp;inputs=20&amp;classes=3&amp;spread=2.5
 * </pre>
 * Keys and defaults (any key may be left out; others are an error naming the allowed ones):
 * <table>
 *   <caption>keys</caption>
 *   <tr><th>key</th><th>kinds</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>n</td><td>both</td><td>10000</td><td>training examples</td></tr>
 *   <tr><td>test</td><td>both</td><td>n / 6</td><td>test examples</td></tr>
 *   <tr><td>inputs</td><td>both</td><td>784</td><td>features per example</td></tr>
 *   <tr><td>classes</td><td>both</td><td>10</td><td>number of labels (at least 2)</td></tr>
 *   <tr><td>seed</td><td>both</td><td>1</td><td>seed of the whole set</td></tr>
 *   <tr><td>hidden</td><td>teacher</td><td>64</td><td>hidden units of the teacher network</td></tr>
 *   <tr><td>spread</td><td>blobs</td><td>1.0</td><td>standard deviation around each centre</td></tr>
 * </table>
 * {@link #generate()} makes the sets with {@link Synthetic#teacherSplit} or
 * {@link Synthetic#blobsSplit}; {@link #toString()} gives the canonical spec with every key,
 * suitable for recording in provenance.
 *
 * @param hidden used by {@code teacher} only
 * @param spread used by {@code blobs} only
 */
public record SyntheticSpec(Kind kind, int n, int test, int inputs, int hidden, int classes, double spread,
        long seed) {
    /** The prefix every synthetic spec starts with. */
    public static final String PREFIX = "synthetic:";
    public static final int DEFAULT_N = 10_000;
    public static final int DEFAULT_INPUTS = 784;
    public static final int DEFAULT_HIDDEN = 64;
    public static final int DEFAULT_CLASSES = 10;
    public static final double DEFAULT_SPREAD = 1.0;
    public static final long DEFAULT_SEED = 1;

    /** The kinds of synthetic set. */
    public enum Kind {
        /** Labels from a random one-hidden-layer tanh network; see {@link Synthetic#teacher}. */
        TEACHER(List.of("n", "test", "inputs", "hidden", "classes", "seed")),
        /** Gaussian clusters; see {@link Synthetic#blobs}. */
        BLOBS(List.of("n", "test", "inputs", "classes", "spread", "seed"));

        private final List<String> keys;

        Kind(List<String> keys) {
            this.keys = keys;
        }

        /** The keys a spec of this kind accepts. */
        public List<String> keys() {
            return keys;
        }

        public String specName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public SyntheticSpec {
        Objects.requireNonNull(kind, "kind");
        if (n < 1) {
            throw new IllegalArgumentException("n must be at least 1, got " + n);
        }
        if (test < 0) {
            throw new IllegalArgumentException("test must be >= 0, got " + test);
        }
        if (inputs < 1) {
            throw new IllegalArgumentException("inputs must be at least 1, got " + inputs);
        }
        if (classes < 2) {
            throw new IllegalArgumentException("classes must be at least 2, got " + classes);
        }
        if (kind == Kind.TEACHER && hidden < 1) {
            throw new IllegalArgumentException("hidden must be at least 1, got " + hidden);
        }
        if (kind == Kind.BLOBS && (!(spread >= 0) || Double.isInfinite(spread))) {
            throw new IllegalArgumentException("spread must be a finite number >= 0, got " + spread);
        }
    }

    /** True if {@code source} names a synthetic set (starts with {@value #PREFIX}). */
    public static boolean isSynthetic(String source) {
        return source != null && source.startsWith(PREFIX);
    }

    /**
     * Parses a spec string.
     *
     * @throws DataException naming the spec and the problem: a missing prefix, an unknown kind,
     *     an unknown or repeated key (listing the allowed ones), or a value that is not a number
     *     in range
     */
    public static SyntheticSpec parse(String spec) {
        Objects.requireNonNull(spec, "spec");
        if (!spec.startsWith(PREFIX)) {
            throw new DataException("data spec '" + spec + "': expected it to start with '" + PREFIX
                    + "', e.g. synthetic:teacher?n=10000");
        }
        String rest = spec.substring(PREFIX.length());
        int q = rest.indexOf('?');
        String kindName = q < 0 ? rest : rest.substring(0, q);
        String query = q < 0 ? "" : rest.substring(q + 1);
        Kind kind = switch (kindName) {
            case "teacher" -> Kind.TEACHER;
            case "blobs" -> Kind.BLOBS;
            default -> throw new DataException("data spec '" + spec + "': unknown synthetic set '" + kindName
                    + "', expected teacher or blobs");
        };
        Map<String, String> values = new LinkedHashMap<>();
        if (!query.isEmpty()) {
            for (String pair : query.split("&", -1)) {
                int eq = pair.indexOf('=');
                if (eq <= 0) {
                    throw new DataException("data spec '" + spec + "': '" + pair + "' is not key=value");
                }
                String key = pair.substring(0, eq);
                if (!kind.keys().contains(key)) {
                    throw new DataException("data spec '" + spec + "': unknown key '" + key + "' for "
                            + kind.specName() + "; allowed keys: " + String.join(", ", kind.keys()));
                }
                if (values.put(key, pair.substring(eq + 1)) != null) {
                    throw new DataException("data spec '" + spec + "': key '" + key + "' given twice");
                }
            }
        }
        int n = intValue(spec, values, "n", DEFAULT_N, 1);
        try {
            return new SyntheticSpec(kind, n, intValue(spec, values, "test", n / 6, 0),
                    intValue(spec, values, "inputs", DEFAULT_INPUTS, 1),
                    intValue(spec, values, "hidden", DEFAULT_HIDDEN, 1),
                    intValue(spec, values, "classes", DEFAULT_CLASSES, 2),
                    doubleValue(spec, values, "spread", DEFAULT_SPREAD),
                    longValue(spec, values, "seed", DEFAULT_SEED));
        } catch (IllegalArgumentException e) {
            throw new DataException("data spec '" + spec + "': " + e.getMessage(), e);
        }
    }

    /** Generates the training and test sets; both are named after {@link #toString()}. */
    public TrainTest generate() {
        TrainTest tt = switch (kind) {
            case TEACHER -> Synthetic.teacherSplit(seed, n, test, inputs, hidden, classes);
            case BLOBS -> Synthetic.blobsSplit(seed, n, test, inputs, classes, spread);
        };
        return new TrainTest(rename(tt.train(), "/train"), rename(tt.test(), "/test"));
    }

    private Dataset rename(Dataset d, String suffix) {
        return Dataset.of(this + suffix, d.features(), d.labels(), d.numClasses());
    }

    /** The canonical spec: kind and every key it uses, in the order of {@link Kind#keys()}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(PREFIX).append(kind.specName()).append('?');
        sb.append("n=").append(n).append("&test=").append(test).append("&inputs=").append(inputs);
        if (kind == Kind.TEACHER) {
            sb.append("&hidden=").append(hidden);
        }
        sb.append("&classes=").append(classes);
        if (kind == Kind.BLOBS) {
            sb.append("&spread=").append(spread);
        }
        return sb.append("&seed=").append(seed).toString();
    }

    private static int intValue(String spec, Map<String, String> values, String key, int dflt, int min) {
        String v = values.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            int x = Integer.parseInt(v);
            if (x < min) {
                throw new DataException("data spec '" + spec + "': " + key + "=" + v + " must be at least " + min);
            }
            return x;
        } catch (NumberFormatException e) {
            throw new DataException("data spec '" + spec + "': " + key + "=" + v + " is not an integer", e);
        }
    }

    private static long longValue(String spec, Map<String, String> values, String key, long dflt) {
        String v = values.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new DataException("data spec '" + spec + "': " + key + "=" + v + " is not an integer", e);
        }
    }

    private static double doubleValue(String spec, Map<String, String> values, String key, double dflt) {
        String v = values.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            double x = Double.parseDouble(v);
            if (!(x >= 0) || Double.isInfinite(x)) {
                throw new DataException("data spec '" + spec + "': " + key + "=" + v + " must be a finite number >= 0");
            }
            return x;
        } catch (NumberFormatException e) {
            throw new DataException("data spec '" + spec + "': " + key + "=" + v + " is not a number", e);
        }
    }
}
