package io.ringtmp.tensor.internal;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Chooses, for each product shape and thread count, the fastest of several sgemm kernels
 * (native OpenBLAS and RingTMP's Vector API kernel): the first product of a shape times every
 * kernel on scratch matrices of that shape, checks that they agree, and keeps the fastest for
 * the rest of the process. The choice is also written to a small cache file per machine
 * ({@link #defaultCacheFile}), so that later processes, and every node of a ring started on the
 * same machine, make the same choice without timing again.
 *
 * <p>Determinism: within a process a shape's kernel never changes once chosen. Across processes
 * the cache file decides; it is read and extended under an exclusive file lock, so nodes that
 * start together wait for the first one's timing instead of timing on their own and perhaps
 * disagreeing. (Nodes on different machines each time their own kernels: their products then
 * differ in the last bits of float rounding, well inside the tolerance of the tests that compare
 * distributed training with the single-node trainer.) A cache file that cannot be parsed is
 * ignored with one line on the log, and rewritten from new timings; one that cannot be written
 * leaves the choices in memory, also said once.
 *
 * <p>Thread-safety: {@link #choose} may be called from any thread; timings run one at a time.
 */
public final class KernelChooser {
    /** A product C[m x n] = op(A)[m x k] · op(B)[k x n] at a thread count. */
    public record Shape(boolean transA, boolean transB, int m, int n, int k, int threads) {
        /** E.g. {@code 128x784x512 NN threads=2} (M x K x N, as the benchmarks write shapes). */
        public String label() {
            return m + "x" + k + "x" + n + " " + (transA ? "T" : "N") + (transB ? "T" : "N") + " threads=" + threads;
        }

        double flops() {
            return 2.0 * m * n * k;
        }

        static Shape parse(String mkn, String trans, String threads) {
            String[] d = mkn.split("x");
            if (d.length != 3 || !trans.matches("[NT][NT]") || !threads.startsWith("threads=")) {
                throw new IllegalArgumentException("not a shape: " + mkn + " " + trans + " " + threads);
            }
            return new Shape(trans.charAt(0) == 'T', trans.charAt(1) == 'T', Integer.parseInt(d[0]),
                    Integer.parseInt(d[2]), Integer.parseInt(d[1]), Integer.parseInt(threads.substring(8)));
        }
    }

    /**
     * Runs one product with a kernel over whole arrays (A, B, C contiguous, leading dimensions
     * those of the stored matrices, beta 0), split over threads as real products are.
     */
    @FunctionalInterface
    public interface Runner {
        void run(Gemm kernel, Shape shape, float[] a, float[] b, float[] c);
    }

    /** Measures how long one product ({@code body}) takes, in nanoseconds (injected so that tests need no real timing). */
    @FunctionalInterface
    public interface Clock {
        long nanos(Gemm kernel, Runnable body);

        /** The wall clock. */
        Clock SYSTEM = (kernel, body) -> {
            long t0 = System.nanoTime();
            body.run();
            return System.nanoTime() - t0;
        };
    }

    /**
     * A decision: the kernel kept and each kernel's measured GFLOP/s (NaN for one that
     * disagreed or failed).
     */
    public record Choice(Shape shape, String kernel, Map<String, Double> gflops, boolean fromCache) {
        /** E.g. {@code 128x784x512 NN threads=1: vector (vector 152.3, openblas 98.1 GFLOP/s)}. */
        public String line() {
            StringBuilder sb = new StringBuilder(shape.label()).append(": ").append(kernel).append(" (");
            int i = 0;
            for (Map.Entry<String, Double> e : gflops.entrySet()) {
                sb.append(i++ == 0 ? "" : ", ").append(e.getKey()).append(' ')
                        .append(e.getValue().isNaN() ? "disagrees" : String.format(Locale.ROOT, "%.1f", e.getValue()));
            }
            return sb.append(" GFLOP/s").append(fromCache ? ", cached)" : ")").toString();
        }
    }

    /**
     * Up to this many floats (8 MiB) per scratch matrix, four of them at most (A, B, the first
     * kernel's C and a work C); larger shapes are timed on fewer columns (and rows), so that a
     * timing does not raise a large model's peak memory by much.
     */
    static final int MAX_SCRATCH_FLOATS = 2 << 20;
    /**
     * Another kernel replaces the first (preferred) one for a shape only when it is this much
     * faster: a timing of a few milliseconds on a shared machine does not tell 10% apart, and the
     * Java kernel was seen to keep less of its timed advantage inside a training step than
     * OpenBLAS (busy machine, 2026-12-07).
     */
    static final double MARGIN = 1.25;
    /** Timed rounds per kernel, interleaved across kernels; the median counts. */
    static final int TIMED_ROUNDS = 11;
    /** A round repeats (cache flush, product) until its products have run this long (or 1000 times), so small shapes are not timed by one call. */
    static final long MIN_ROUND_NS = 1_000_000;
    /**
     * Each kernel first runs the shape, untimed, for this long (and at least twice): the JIT
     * compiles the Java kernel's paths for the shape's edges only once it has run them, and until
     * then it runs many times slower (measured: 2-20 GFLOP/s instead of 100-150 at the first
     * products of W1's shapes).
     */
    static final long WARM_NS = 300_000_000;
    /**
     * ...and then on until its time per product has not improved by a tenth for
     * {@link #SETTLED_BATCHES} batches, or for this long at most: on a busy machine the JIT's
     * compiler threads get little CPU, and the Java kernel was seen running at 1-25 GFLOP/s for
     * the first hundreds of milliseconds of a shape, then at 100-175. Paid once per machine and
     * shape: the choice is cached.
     */
    static final long MAX_WARM_NS = 3_000_000_000L;
    static final int SETTLED_BATCHES = 5;
    /**
     * A kernel more than this many times slower than the first kernel keeps warming (up to
     * {@link #MAX_WARM_NS}) even when its time has settled: that is the JIT's first tier, not the
     * kernel (seen: the Java kernel at 1.5-16 GFLOP/s for a second, under C1, on shapes where
     * it later ran at 100-150 against OpenBLAS's 60-100). No correct kernel is that much slower
     * at the shapes that are timed.
     */
    static final double SUSPECT_SLOWDOWN = 2.5;

    private final Map<String, Gemm> kernels;
    private final Path cacheFile;
    private final String machineKey;
    private final Runner runner;
    private final Clock clock;
    private final PrintStream log;
    private final Map<Shape, Gemm> chosen = new ConcurrentHashMap<>();
    private final Map<Shape, Choice> choices = new ConcurrentHashMap<>();
    private final Object timingLock = new Object();
    private boolean cacheWarned;

    /**
     * @param kernels    id to kernel, in order of preference (the first wins ties and is the
     *                   reference the others must agree with)
     * @param cacheFile  where choices persist, or null for none
     * @param machineKey what the choices depend on (CPU, JDK, kernel versions); a cache file
     *                   written under another key is ignored
     */
    public KernelChooser(Map<String, Gemm> kernels, Path cacheFile, String machineKey, Runner runner, Clock clock,
                         PrintStream log) {
        if (kernels.isEmpty()) {
            throw new IllegalArgumentException("no kernels to choose from");
        }
        for (String id : kernels.keySet()) {
            if (!id.matches("[a-z0-9-]+")) {
                throw new IllegalArgumentException("kernel id '" + id + "' must be lower-case letters, digits and dashes");
            }
        }
        this.kernels = new LinkedHashMap<>(kernels);
        this.cacheFile = cacheFile;
        this.machineKey = machineKey;
        this.runner = runner;
        this.clock = clock;
        this.log = log;
    }

    /** The kernel ids, in order of preference. */
    public List<String> kernelIds() {
        return List.copyOf(kernels.keySet());
    }

    public Path cacheFile() {
        return cacheFile;
    }

    /** The kernel for {@code shape}: chosen before in this process, read from the cache, or timed now. */
    public Gemm choose(Shape shape) {
        Gemm g = chosen.get(shape);
        return g != null ? g : decide(shape);
    }

    /** Every decision this process has made or read, in no particular order. */
    public List<Choice> choices() {
        return List.copyOf(choices.values());
    }

    private Gemm decide(Shape shape) {
        synchronized (timingLock) {
            Gemm g = chosen.get(shape);
            if (g != null) {
                return g;
            }
            Choice c = cacheFile == null ? time(shape) : decideWithCache(shape);
            Gemm kernel = kernels.get(c.kernel());
            choices.put(shape, c);
            chosen.put(shape, kernel);
            return kernel;
        }
    }

    /** Under the file lock: the cached choice, or a new timing appended to the file. */
    private Choice decideWithCache(Shape shape) {
        try {
            Files.createDirectories(cacheFile.toAbsolutePath().getParent());
            try (FileChannel ch = FileChannel.open(cacheFile, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
                 FileLock lock = ch.lock()) {
                Map<Shape, Choice> cached = read(ch);
                Choice hit = cached == null ? null : cached.get(shape);
                if (hit != null) {
                    return hit;
                }
                Choice c = time(shape);
                if (cached == null) {
                    cached = new LinkedHashMap<>();
                }
                cached.put(shape, c);
                write(ch, cached.values());
                return c;
            }
        } catch (IOException | RuntimeException e) {
            if (!cacheWarned) {
                cacheWarned = true;
                log.println("kernel choices not cached (" + cacheFile + ": " + e + "); each process times its own");
            }
            return time(shape);
        }
    }

    /** The file's choices; an empty map for an empty file or another machine key, null (after saying so) for a corrupt one. */
    private Map<Shape, Choice> read(FileChannel ch) throws IOException {
        ch.position(0);
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(ch.size(), 1 << 20));
        while (buf.hasRemaining() && ch.read(buf) > 0) {
            // read it all
        }
        String text = new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8);
        Map<Shape, Choice> out = new LinkedHashMap<>();
        if (text.isEmpty()) {
            return out;
        }
        List<String> lines = text.lines().toList();
        String header = "# key " + machineKey;
        if (!lines.get(0).equals(header)) {
            if (lines.get(0).startsWith("# key ")) {
                return out; // another machine's or build's choices: time again, then overwrite
            }
            corrupt(1, lines.get(0));
            return null;
        }
        for (int i = 1; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            try {
                Choice c = parse(line);
                out.put(c.shape(), c);
            } catch (RuntimeException e) {
                corrupt(i + 1, line);
                return null;
            }
        }
        return out;
    }

    private void corrupt(int lineNo, String line) {
        log.println("kernel cache " + cacheFile + " is corrupt (line " + lineNo + ": '" + abbreviate(line)
                + "'); ignoring it and timing the kernels again");
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }

    /** {@code 128x784x512 NN threads=1 vector | vector 152.3 openblas 98.1}. */
    private Choice parse(String line) {
        String[] halves = line.split("\\|");
        if (halves.length != 2) {
            throw new IllegalArgumentException("no '|'");
        }
        String[] head = halves[0].trim().split("\\s+");
        if (head.length != 4) {
            throw new IllegalArgumentException("expected 4 words before '|'");
        }
        Shape shape = Shape.parse(head[0], head[1], head[2]);
        if (shape.m() < 1 || shape.n() < 1 || shape.k() < 1 || shape.threads() < 1) {
            throw new IllegalArgumentException("bad dimensions");
        }
        String kernel = head[3];
        if (!kernels.containsKey(kernel)) {
            throw new IllegalArgumentException("unknown kernel " + kernel);
        }
        String[] rates = halves[1].trim().split("\\s+");
        Map<String, Double> gflops = new LinkedHashMap<>();
        for (int i = 0; i + 1 < rates.length; i += 2) {
            gflops.put(rates[i], Double.parseDouble(rates[i + 1]));
        }
        if (rates.length % 2 != 0 || !gflops.containsKey(kernel)) {
            throw new IllegalArgumentException("rates do not name the kernel kept");
        }
        return new Choice(shape, kernel, gflops, true);
    }

    private void write(FileChannel ch, Iterable<Choice> all) throws IOException {
        StringBuilder sb = new StringBuilder("# key ").append(machineKey).append('\n')
                .append("# RingTMP's sgemm kernel per product shape (M x K x N, transposes, threads), "
                        + "timed on this machine; delete the file to time again\n");
        for (Choice c : all) {
            Shape s = c.shape();
            sb.append(s.m()).append('x').append(s.k()).append('x').append(s.n()).append(' ')
                    .append(s.transA() ? 'T' : 'N').append(s.transB() ? 'T' : 'N').append(" threads=").append(s.threads())
                    .append(' ').append(c.kernel()).append(" |");
            c.gflops().forEach((k, v) -> sb.append(' ').append(k).append(' ').append(String.format(Locale.ROOT, "%.1f", v)));
            sb.append('\n');
        }
        byte[] bytes = sb.toString().getBytes(StandardCharsets.UTF_8);
        ch.truncate(0);
        ch.position(0);
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
        ch.force(false);
    }

    /**
     * Times every kernel on {@code shape} (at most {@link #MAX_SCRATCH_FLOATS} per matrix: wider
     * shapes are timed on their first columns, then rows), after checking each kernel's result
     * against the first kernel's.
     */
    private Choice time(Shape real) {
        Shape s = scratchShape(real);
        float[] a = filled(s.m() * s.k(), 1), b = filled(s.k() * s.n(), 2);
        List<String> ids = new ArrayList<>(kernels.keySet());
        Map<String, Double> gflops = new LinkedHashMap<>();
        Map<String, Long> best = new LinkedHashMap<>();
        float[] reference = null;
        float[] c = new float[s.m() * s.n()];
        for (String id : ids) {
            String why;
            try {
                runner.run(kernels.get(id), s, a, b, c);
                why = reference == null ? agreesWithItself(c) : disagreement(reference, c, s.k());
            } catch (RuntimeException | LinkageError e) {
                why = "failed: " + e;
            }
            if (why != null) {
                log.println("sgemm kernel " + id + " is not used for " + real.label() + ": " + why);
                gflops.put(id, Double.NaN);
                continue;
            }
            if (reference == null) {
                reference = c;
                c = new float[s.m() * s.n()];
            }
            best.put(id, Long.MAX_VALUE);
        }
        if (best.isEmpty()) {
            throw new IllegalStateException("no sgemm kernel gave a finite result for " + real.label());
        }
        float[] work = c;
        long firstKernelNs = 0;
        for (String id : best.keySet()) {
            Gemm g = kernels.get(id);
            long t0 = System.nanoTime(), fastest = Long.MAX_VALUE;
            int unimproved = 0;
            for (int batch = 0; ; batch++) {
                long b0 = System.nanoTime();
                int calls = 0;
                do {
                    runner.run(g, s, a, b, work);
                    calls++;
                } while (System.nanoTime() - b0 < MIN_ROUND_NS && calls < 1000);
                long now = System.nanoTime(), perCall = (now - b0) / calls;
                if (perCall < fastest * 0.9) {
                    unimproved = 0;
                } else {
                    unimproved++;
                }
                fastest = Math.min(fastest, perCall);
                boolean suspect = firstKernelNs > 0 && fastest > SUSPECT_SLOWDOWN * firstKernelNs;
                if (batch >= 1 && (now - t0 >= WARM_NS && unimproved >= SETTLED_BATCHES && !suspect || now - t0 >= MAX_WARM_NS)) {
                    break;
                }
            }
            if (firstKernelNs == 0) {
                firstKernelNs = fastest;
            }
        }
        // Each timed product starts with cold private caches, as in training, where a step's other
        // products and element-wise passes have run in between: a flush of the caller's L1 and L2
        // (outside the timing), then one product, and the median of the rounds counts, so a
        // kernel that is fast only with its operands in cache, or only in a lull of a busy
        // machine, does not win.
        Map<String, long[]> samples = new LinkedHashMap<>();
        for (String id : best.keySet()) {
            samples.put(id, new long[TIMED_ROUNDS]);
        }
        List<String> order = new ArrayList<>(best.keySet());
        for (int round = 0; round < TIMED_ROUNDS; round++) {
            for (int j = 0; j < order.size(); j++) {
                // Rotate the order each round, so that no kernel always runs right after another.
                String id = order.get((j + round) % order.size());
                Gemm g = kernels.get(id);
                long ns = 0;
                int calls = 0;
                do {
                    flushCaches();
                    ns += clock.nanos(g, () -> runner.run(g, s, a, b, work));
                    calls++;
                } while (ns < MIN_ROUND_NS && calls < 1000);
                samples.get(id)[round] = Math.max(1, ns / calls);
            }
        }
        for (Map.Entry<String, long[]> e : samples.entrySet()) {
            long[] x = e.getValue().clone();
            java.util.Arrays.sort(x);
            best.put(e.getKey(), x[x.length / 2]);
        }
        // The first kernel (the preferred one) keeps a shape unless another is clearly faster.
        String fastest = null;
        for (Map.Entry<String, Long> e : best.entrySet()) {
            if (fastest == null || e.getValue() * MARGIN < best.get(fastest)) {
                fastest = e.getKey();
            }
        }
        Map<String, Double> ordered = new LinkedHashMap<>();
        for (String id : ids) {
            Long ns = best.get(id);
            ordered.put(id, ns == null ? Double.NaN : s.flops() / ns);
        }
        return new Choice(real, fastest, ordered, false);
    }

    /** Twice a 1 MiB L2 and more: writing it evicts the timed operands from the caller's L1 and L2 (not from L3). */
    private static final float[] FLUSH = new float[768 * 1024];
    private static volatile float flushSink;

    private static void flushCaches() {
        float[] f = FLUSH;
        for (int i = 0; i < f.length; i += 16) {
            f[i] += 1f;
        }
        flushSink = f[0];
    }

    /** The shape timed for {@code real}: the same, or with fewer columns (then rows) so that no scratch matrix exceeds the cap. */
    static Shape scratchShape(Shape real) {
        int m = real.m(), n = real.n(), k = real.k();
        long cap = MAX_SCRATCH_FLOATS;
        // k is kept: it sets the kernel's inner loop and blocking; a slice of C's columns (or rows) is
        // a product of the same kind.
        if ((long) k * m > cap) {
            m = (int) Math.max(1, cap / k);
        }
        if ((long) k * n > cap) {
            n = (int) Math.max(1, cap / k);
        }
        if ((long) m * n > cap) {
            n = (int) Math.max(1, cap / m);
        }
        return new Shape(real.transA(), real.transB(), m, n, k, real.threads());
    }

    /** Deterministic values in [-1, 1). */
    private static float[] filled(int size, int seed) {
        float[] x = new float[size];
        long s = 0x9E3779B97F4A7C15L * seed;
        for (int i = 0; i < size; i++) {
            s = s * 6364136223846793005L + 1442695040888963407L;
            x[i] = ((s >>> 40) / (float) (1 << 24)) * 2f - 1f;
        }
        return x;
    }

    private static String agreesWithItself(float[] c) {
        for (float v : c) {
            if (!Float.isFinite(v)) {
                return "non-finite result";
            }
        }
        return null;
    }

    /**
     * Why {@code c} is not {@code reference} to float32 rounding, or null: with entries of A and
     * B in [-1, 1) an element is about sqrt(k)/3 in size and a correct kernel's rounding error
     * (any order of summation) a few times sqrt(k)·2^-24 of that; the tolerance,
     * 2.5e-6·k·sqrt(k) (0.66 at k = 4096, where elements are about 21), passes every correct
     * kernel by orders of magnitude and fails a wrong element (a transpose mixed up, a tile
     * missed), which is off by the element's own size.
     */
    static String disagreement(float[] reference, float[] c, int k) {
        double tol = Math.max(1e-5, 2.5e-6 * k * Math.sqrt(k));
        for (int i = 0; i < c.length; i++) {
            double d = Math.abs((double) c[i] - reference[i]);
            if (!(d <= tol)) {
                return String.format(Locale.ROOT, "element %d is %s, the reference kernel's %s (tolerance %.2g)", i, c[i],
                        reference[i], tol);
            }
        }
        return null;
    }

    /**
     * {@code $XDG_CACHE_HOME/ringtmp/<name>} or {@code ~/.cache/ringtmp/<name>}; where that
     * folder cannot be made or written (a node run as {@code nobody}, whose home does not exist),
     * {@code <java.io.tmpdir>/ringtmp-cache-<user>/<name>}, so that such nodes still share one file.
     */
    public static Path defaultCacheFile(String name) {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        Path dir = base.resolve("ringtmp");
        try {
            Files.createDirectories(dir);
            if (Files.isWritable(dir)) {
                return dir.resolve(name);
            }
        } catch (IOException | RuntimeException e) {
            // fall through to the temporary folder
        }
        return Path.of(System.getProperty("java.io.tmpdir"), "ringtmp-cache-" + System.getProperty("user.name", "user")).resolve(name);
    }
}
