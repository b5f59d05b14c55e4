package io.ringtmp.cli.bench;

import io.ringtmp.tensor.Blas;
import io.ringtmp.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The sgemm benchmark: GFLOP/s of {@link Blas#gemmInto} at the shapes training uses, and the
 * "training-step sgemm rate" a trainer's step rate is compared with.
 *
 * <p>A first warm-up runs every code path of the kernels (all transposes, edge tiles, several
 * blocks) for {@link #FIRST_WARMUP_NS}: C2 compiles the Java kernel with the branches it has seen,
 * and a later shape that takes a new branch deoptimises it and runs interpreted Vector API code
 * (tens of times slower) until it is recompiled, which without this spoils the first shapes.
 * Each shape then gets a warm-up (at least {@link #WARMUP_NS} and one call, so the JIT has compiled
 * the Java kernels), then up to {@link #SAMPLES} timed samples of at least {@link #MIN_SAMPLE_NS}
 * each; the reported rate is their median. Slow kernels (netlib's Java sgemm takes seconds per
 * call at 4096 columns) stop sampling after {@link #MAX_SAMPLING_NS}, with at least one sample, so
 * a whole run stays within minutes; {@link Result#samples()} says how many there were.
 *
 * <p>The kernel is whatever {@link Blas} chose for this process (pick one with
 * {@code -Dringtmp.blas=native|java|netlib-java}); the thread count is set through
 * {@link Blas#setThreads} for the measurement and restored afterwards. Run it from one thread
 * at a time: it changes that process-wide setting.
 *
 * <p>From the command line (what docs/benchmarks-gemm.md uses):
 * <pre>
 * java --add-modules=jdk.incubator.vector -cp cli/target/ringtmp.jar io.ringtmp.cli.bench.GemmBench 1 2
 * </pre>
 */
public final class GemmBench {
    static final long WARMUP_NS = 300_000_000L;
    static final long FIRST_WARMUP_NS = 2_000_000_000L;
    static final long MIN_SAMPLE_NS = 50_000_000L;
    static final long MAX_SAMPLING_NS = 2_000_000_000L;
    static final int SAMPLES = 5;

    /** One product C[m x n] = op(A)[m x k] · op(B)[k x n]; written M x K x N as in the docs. */
    public record Shape(int m, int k, int n, boolean transA, boolean transB) {
        public Shape {
            if (m < 1 || k < 1 || n < 1) {
                throw new IllegalArgumentException("shape dimensions must be >= 1, got " + m + "x" + k + "x" + n);
            }
        }

        /** A plain product, no transposes. */
        public static Shape nn(int m, int k, int n) {
            return new Shape(m, k, n, false, false);
        }

        public double flops() {
            return 2.0 * m * n * k;
        }

        /** E.g. {@code 128x784x512 NN}. */
        public String label() {
            return m + "x" + k + "x" + n + " " + (transA ? "T" : "N") + (transB ? "T" : "N");
        }
    }

    /** The measured rate of one shape at one thread count. */
    public record Result(Shape shape, int threads, double gflops, int samples) {
        /** E.g. {@code sgemm 128x784x512 NN threads=1: 152.3 GFLOP/s}. */
        public String line() {
            return String.format(Locale.ROOT, "sgemm %s threads=%d: %.1f GFLOP/s", shape.label(), threads, gflops);
        }
    }

    /**
     * The products of one training step of a fully connected network, with repeats: per layer
     * (weights W [in, out], batch X [batch, in]) the forward X·W, the weight gradient Xᵀ·dY and,
     * except for the first layer whose input needs no gradient, the input gradient dY·Wᵀ.
     */
    public record Workload(String name, List<Shape> gemms) {
        public Workload {
            gemms = List.copyOf(gemms);
        }

        /** The step's products for layer widths {@code widths[0] -> ... -> widths[last]}. */
        public static Workload mlp(String name, int batch, int... widths) {
            if (widths.length < 2) {
                throw new IllegalArgumentException("an MLP needs at least 2 widths, got " + Arrays.toString(widths));
            }
            List<Shape> g = new ArrayList<>();
            for (int l = 0; l + 1 < widths.length; l++) {
                int in = widths[l], out = widths[l + 1];
                g.add(new Shape(batch, in, out, false, false));   // Y = X · W
                g.add(new Shape(in, batch, out, true, false));    // dW = Xᵀ · dY
                if (l > 0) {
                    g.add(new Shape(batch, out, in, false, true)); // dX = dY · Wᵀ
                }
            }
            return new Workload(name, g);
        }

        public double flops() {
            return gemms.stream().mapToDouble(Shape::flops).sum();
        }
    }

    /** W1's products: 784-512-512-10 at batch 128. */
    public static final Workload W1 = of(io.ringtmp.train.Workload.W1);
    /** W2's products: 784-4096-4096-4096-4096-10 at batch 256. */
    public static final Workload W2 = of(io.ringtmp.train.Workload.W2);

    /** The products of one training step of a standard workload. */
    public static Workload of(io.ringtmp.train.Workload w) {
        return Workload.mlp(w.name() + " " + w.model().substring(w.model().indexOf(':') + 1) + " batch " + w.batch(), w.batch(), w.widths());
    }

    private GemmBench() {
    }

    /**
     * The shapes of the benchmark: every distinct product of W1 and W2, the first layers' input
     * gradients too (a trainer might compute them), and the squares 1024³ and 2048³.
     */
    public static List<Shape> defaultShapes() {
        LinkedHashSet<Shape> s = new LinkedHashSet<>();
        for (Workload w : List.of(W1, W2)) {
            s.addAll(w.gemms());
        }
        s.add(new Shape(128, 512, 784, false, true));
        s.add(new Shape(256, 4096, 784, false, true));
        s.add(Shape.nn(1024, 1024, 1024));
        s.add(Shape.nn(2048, 2048, 2048));
        return List.copyOf(s);
    }

    /** Measures each shape at the given thread count through {@link Blas#gemmInto}. */
    public static List<Result> measure(List<Shape> shapes, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        int before = Blas.threads();
        Blas.setThreads(threads);
        try {
            warmUpOnce();
            List<Result> out = new ArrayList<>(shapes.size());
            for (Shape s : shapes) {
                out.add(measure(s, threads));
            }
            return out;
        } finally {
            Blas.setThreads(before);
        }
    }

    private static boolean warmedUp;

    private static void warmUpOnce() {
        if (warmedUp) {
            return;
        }
        warmedUp = true;
        List<Shape> paths = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            boolean ta = t >= 2, tb = t % 2 == 1;
            paths.add(new Shape(67, 600, 70, ta, tb));   // edge tiles, two k-panels
            paths.add(new Shape(64, 64, 64, ta, tb));    // full tiles only
            paths.add(new Shape(13, 40, 2100, ta, tb));  // two column panels
            paths.add(new Shape(128, 10, 512, ta, tb));  // short k
        }
        long t0 = System.nanoTime();
        while (System.nanoTime() - t0 < FIRST_WARMUP_NS) {
            for (Shape s : paths) {
                run(s, 1);
            }
        }
    }

    private static void run(Shape s, int calls) {
        Random r = new Random(7);
        Tensor a = random(r, s.transA() ? s.k() : s.m(), s.transA() ? s.m() : s.k());
        Tensor b = random(r, s.transB() ? s.n() : s.k(), s.transB() ? s.k() : s.n());
        Tensor c = Tensor.zeros(s.m(), s.n());
        for (int i = 0; i < calls; i++) {
            Blas.gemmInto(1f, a, s.transA(), b, s.transB(), i % 2 == 0 ? 0f : 1f, c);
        }
    }

    private static Result measure(Shape s, int threads) {
        Random r = new Random(42);
        Tensor a = random(r, s.transA() ? s.k() : s.m(), s.transA() ? s.m() : s.k());
        Tensor b = random(r, s.transB() ? s.n() : s.k(), s.transB() ? s.k() : s.n());
        Tensor c = Tensor.zeros(s.m(), s.n());
        long t0 = System.nanoTime();
        int calls = 0;
        while (calls < 1 || System.nanoTime() - t0 < WARMUP_NS) {
            Blas.gemmInto(1f, a, s.transA(), b, s.transB(), 0f, c);
            calls++;
        }
        double[] gflops = new double[SAMPLES];
        int n = 0;
        long sampling = System.nanoTime();
        while (n < SAMPLES && (n == 0 || System.nanoTime() - sampling < MAX_SAMPLING_NS)) {
            int reps = 0;
            long start = System.nanoTime(), elapsed;
            do {
                Blas.gemmInto(1f, a, s.transA(), b, s.transB(), 0f, c);
                reps++;
                elapsed = System.nanoTime() - start;
            } while (elapsed < MIN_SAMPLE_NS);
            gflops[n++] = s.flops() * reps / elapsed;
        }
        return new Result(s, threads, median(Arrays.copyOf(gflops, n)), n);
    }

    /**
     * The sgemm rate of one training step: its total FLOPs divided by the time its products take
     * at the measured rates (a FLOP-weighted harmonic mean). {@code results} must cover every
     * shape of the workload, at one thread count.
     */
    public static double stepRate(Workload w, List<Result> results) {
        double seconds = 0;
        for (Shape s : w.gemms()) {
            Result res = results.stream().filter(x -> x.shape().equals(s)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no measurement for " + s.label() + " of " + w.name()));
            seconds += s.flops() / (res.gflops() * 1e9);
        }
        return w.flops() / seconds / 1e9;
    }

    /** Measures the workload's distinct shapes at {@code threads} and returns its step rate. */
    public static double stepRate(Workload w, int threads) {
        return stepRate(w, measure(List.copyOf(new LinkedHashSet<>(w.gemms())), threads));
    }

    /** E.g. {@code training-step sgemm rate W1 ... threads=1: 140.2 GFLOP/s (8 GEMMs, 0.35 GFLOP)}. */
    public static String stepLine(Workload w, int threads, double gflops) {
        return String.format(Locale.ROOT, "training-step sgemm rate %s threads=%d: %.1f GFLOP/s (%d GEMMs, %.2f GFLOP)",
                w.name(), threads, gflops, w.gemms().size(), w.flops() / 1e9);
    }

    /**
     * Prints {@link Blas#describe()}, one line per shape and the step rates of W1 and W2, for
     * each thread count given as an argument (default 1).
     */
    public static void main(String[] args) {
        int[] threadCounts = args.length == 0 ? new int[] {1} : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
        System.out.println(Blas.describe());
        for (int t : threadCounts) {
            List<Result> results = measure(defaultShapes(), t);
            results.forEach(res -> System.out.println(res.line()));
            for (Workload w : List.of(W1, W2)) {
                System.out.println(stepLine(w, t, stepRate(w, results)));
            }
        }
    }

    private static Tensor random(Random r, int rows, int cols) {
        Tensor t = Tensor.zeros(rows, cols);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = r.nextFloat() * 2 - 1;
        }
        return t;
    }

    private static double median(double[] x) {
        double[] s = x.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
