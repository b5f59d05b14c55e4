package io.ringtmp.data;

import io.ringtmp.tensor.Rng;
import io.ringtmp.tensor.Tensor;

/**
 * Seeded synthetic classification sets, for tests and for experiments that must not depend on a
 * download. The same arguments give bit-identical sets on every JDK and machine (plain Java
 * arithmetic, no BLAS). Each set draws from streams derived with {@link Rng#derive} from its
 * seed: the generating model (teacher weights, blob centres) from one, training inputs from
 * {@code "train"}, test inputs from {@code "test"}; so {@code teacher(s, n, ...)} equals the
 * training half of {@code teacherSplit(s, n, m, ...)} and the test half shares its teacher.
 * For spec strings ({@code synthetic:teacher?n=...}) see {@link SyntheticSpec}.
 */
public final class Synthetic {
    /** Calibration examples used to balance the teacher's classes. */
    private static final int CALIBRATION_EXAMPLES = 4096;

    private Synthetic() {}

    /**
     * {@code n} examples labelled by a random teacher network: inputs are standard normal,
     * {@code label = argmax(W2 · tanh(W1 · x + b1) + b2)} with {@code W1 ~ N(0, 1/inputs)},
     * {@code b1 ~ N(0, 0.25)}, {@code W2 ~ N(0, 1/hidden)}, and {@code b2} chosen so the classes are
     * roughly equally frequent. A student with at least {@code hidden} tanh units can fit it
     * exactly; a linear model cannot.
     */
    public static Dataset teacher(long seed, int n, int inputs, int hidden, int classes) {
        check(n, inputs, classes);
        requirePositive("hidden", hidden);
        return new Teacher(seed, inputs, hidden, classes).sample(n, Rng.derive(seed, "train"),
                "synthetic-teacher(seed=" + seed + ")/train");
    }

    /** A training set of {@code nTrain} and a test set of {@code nTest} examples of the same teacher. */
    public static TrainTest teacherSplit(long seed, int nTrain, int nTest, int inputs, int hidden, int classes) {
        check(nTrain, inputs, classes);
        requireNonNegative("nTest", nTest);
        requirePositive("hidden", hidden);
        Teacher t = new Teacher(seed, inputs, hidden, classes);
        String name = "synthetic-teacher(seed=" + seed + ")";
        return new TrainTest(t.sample(nTrain, Rng.derive(seed, "train"), name + "/train"),
                t.sample(nTest, Rng.derive(seed, "test"), name + "/test"));
    }

    /**
     * {@code n} examples from {@code classes} Gaussian blobs: centres with standard-normal
     * coordinates, each example its class's centre plus {@code spread} times standard-normal
     * noise, each label uniform over the classes. Centres lie about {@code sqrt(2 * inputs)}
     * apart, so the set gets hard as {@code spread} nears {@code sqrt(inputs / 2)}.
     */
    public static Dataset blobs(long seed, int n, int inputs, int classes, double spread) {
        check(n, inputs, classes);
        checkSpread(spread);
        return sampleBlobs(centres(seed, inputs, classes), n, spread, Rng.derive(seed, "train"),
                "synthetic-blobs(seed=" + seed + ")/train");
    }

    /** A training and a test set of the same blobs. */
    public static TrainTest blobsSplit(long seed, int nTrain, int nTest, int inputs, int classes, double spread) {
        check(nTrain, inputs, classes);
        requireNonNegative("nTest", nTest);
        checkSpread(spread);
        float[][] c = centres(seed, inputs, classes);
        String name = "synthetic-blobs(seed=" + seed + ")";
        return new TrainTest(sampleBlobs(c, nTrain, spread, Rng.derive(seed, "train"), name + "/train"),
                sampleBlobs(c, nTest, spread, Rng.derive(seed, "test"), name + "/test"));
    }

    private static float[][] centres(long seed, int inputs, int classes) {
        Rng rng = new Rng(Rng.derive(seed, "blob-centres"));
        float[][] c = new float[classes][inputs];
        for (float[] row : c) {
            for (int j = 0; j < inputs; j++) {
                row[j] = (float) rng.nextGaussian();
            }
        }
        return c;
    }

    private static Dataset sampleBlobs(float[][] centres, int n, double spread, long streamSeed, String name) {
        Rng rng = new Rng(streamSeed);
        int inputs = centres[0].length;
        float[] x = new float[n * inputs];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            int label = rng.nextInt(centres.length);
            y[i] = label;
            float[] c = centres[label];
            for (int j = 0; j < inputs; j++) {
                x[i * inputs + j] = (float) (c[j] + spread * rng.nextGaussian());
            }
        }
        return Dataset.of(name, Tensor.wrap(x, n, inputs), y, centres.length);
    }

    /** The random network that labels the teacher set; built only from the seed. */
    private static final class Teacher {
        final int inputs;
        final int hidden;
        final int classes;
        final float[] w1; // [hidden][inputs]
        final float[] b1;
        final float[] w2; // [classes][hidden]
        final double[] b2;

        Teacher(long seed, int inputs, int hidden, int classes) {
            this.inputs = inputs;
            this.hidden = hidden;
            this.classes = classes;
            Rng rng = new Rng(Rng.derive(seed, "teacher"));
            w1 = gaussian(rng, hidden * inputs, 1.0 / Math.sqrt(inputs));
            b1 = gaussian(rng, hidden, 0.5);
            w2 = gaussian(rng, classes * hidden, 1.0 / Math.sqrt(hidden));
            b2 = new double[classes];
            balance(new Rng(Rng.derive(seed, "teacher-calibration")));
        }

        /**
         * Moves the output biases until each class wins about equally often on calibration
         * inputs; without this a random teacher often gives most examples one or two labels.
         */
        private void balance(Rng rng) {
            int m = CALIBRATION_EXAMPLES;
            double[] logits = new double[m * classes];
            float[] x = new float[inputs];
            double[] h = new double[hidden];
            for (int i = 0; i < m; i++) {
                fillGaussian(rng, x);
                forward(x, 0, h, logits, i * classes);
            }
            double step = 0.5 * spreadOf(logits);
            int[] counts = new int[classes];
            for (int round = 0; round < 200; round++) {
                java.util.Arrays.fill(counts, 0);
                for (int i = 0; i < m; i++) {
                    counts[argmax(logits, i * classes)]++;
                }
                for (int c = 0; c < classes; c++) {
                    b2[c] += step * (1.0 / classes - (double) counts[c] / m);
                }
                step *= 0.98;
            }
        }

        /** Logits without b2 into {@code out[outOff ..]}, for the input row at {@code x[xOff ..]}. */
        private void forward(float[] x, int xOff, double[] h, double[] out, int outOff) {
            for (int j = 0; j < hidden; j++) {
                double s = b1[j];
                int w = j * inputs;
                for (int k = 0; k < inputs; k++) {
                    s += (double) w1[w + k] * x[xOff + k];
                }
                h[j] = Math.tanh(s);
            }
            for (int c = 0; c < classes; c++) {
                double s = 0;
                int w = c * hidden;
                for (int j = 0; j < hidden; j++) {
                    s += w2[w + j] * h[j];
                }
                out[outOff + c] = s;
            }
        }

        private int argmax(double[] logits, int off) {
            int best = 0;
            double bestValue = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                double v = logits[off + c] + b2[c];
                if (v > bestValue) {
                    bestValue = v;
                    best = c;
                }
            }
            return best;
        }

        Dataset sample(int n, long streamSeed, String name) {
            Rng rng = new Rng(streamSeed);
            float[] x = new float[n * inputs];
            int[] y = new int[n];
            double[] h = new double[hidden];
            double[] logits = new double[classes];
            float[] row = new float[inputs];
            for (int i = 0; i < n; i++) {
                fillGaussian(rng, row);
                System.arraycopy(row, 0, x, i * inputs, inputs);
                forward(row, 0, h, logits, 0);
                y[i] = argmax(logits, 0);
            }
            return Dataset.of(name, Tensor.wrap(x, n, inputs), y, classes);
        }

        private static double spreadOf(double[] v) {
            double mean = 0;
            for (double d : v) {
                mean += d;
            }
            mean /= v.length;
            double var = 0;
            for (double d : v) {
                var += (d - mean) * (d - mean);
            }
            return Math.sqrt(var / v.length) + 1e-6;
        }
    }

    private static float[] gaussian(Rng rng, int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (std * rng.nextGaussian());
        }
        return a;
    }

    private static void fillGaussian(Rng rng, float[] a) {
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) rng.nextGaussian();
        }
    }

    private static void check(int n, int inputs, int classes) {
        requireNonNegative("n", n);
        requirePositive("inputs", inputs);
        if (classes < 2) {
            throw new IllegalArgumentException("classes must be at least 2, got " + classes);
        }
        if ((long) n * inputs > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("n * inputs = " + ((long) n * inputs) + " features do not fit one array");
        }
    }

    private static void checkSpread(double spread) {
        if (!(spread >= 0) || Double.isInfinite(spread)) {
            throw new IllegalArgumentException("spread must be a finite number >= 0, got " + spread);
        }
    }

    private static void requirePositive(String name, int v) {
        if (v < 1) {
            throw new IllegalArgumentException(name + " must be at least 1, got " + v);
        }
    }

    private static void requireNonNegative(String name, int v) {
        if (v < 0) {
            throw new IllegalArgumentException(name + " must be >= 0, got " + v);
        }
    }
}
