package io.ringtmp.tensor;

import dev.ludovic.netlib.blas.BLAS;
import dev.ludovic.netlib.blas.JavaBLAS;
import io.ringtmp.tensor.internal.Gemm;
import io.ringtmp.tensor.internal.GemmProbe;
import io.ringtmp.tensor.internal.KernelChooser;
import io.ringtmp.tensor.internal.NativeBlasLibrary;
import io.ringtmp.tensor.internal.NetlibGemm;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The matrix-product facade every layer uses.
 *
 * <p>With {@code -D}{@value #PROPERTY}{@code =per-shape} (both native OpenBLAS and the Vector
 * API kernel must load) the kernel is chosen <em>per product shape</em>
 * ({@link Backend#PER_SHAPE}; not the default: on a busy machine it was measured slower inside
 * training than OpenBLAS alone, see docs/benchmarks.md): a shape's first product
 * times both kernels on scratch matrices of that shape and thread count, checks that they
 * agree, and keeps the faster for the rest of the process; the choice is cached per machine in
 * a file ({@link #kernelCacheFile()}, set with {@value #CACHE_PROPERTY}) so that later processes
 * and every node of a ring on that machine use the same kernel for the same shape
 * ({@link KernelChooser}). {@link #kernelChoices()} lists them. Otherwise the kernel is chosen
 * once per process: native OpenBLAS through netlib's JNI where the
 * library is installed (found by its own name, {@code libopenblas.so.0}, not through whatever
 * {@code libblas.so.3} points at: {@link NativeBlasLibrary}); another native BLAS only when a
 * short start-up sgemm probe finds it at least as fast as the Java kernel (the reference BLAS is
 * 20-50 times slower, and {@link #warning()} then says so and what to install); otherwise
 * RingTMP's own Vector API kernel, and netlib's pure-Java sgemm
 * only when the {@code jdk.incubator.vector} module is missing (see {@link Backend});
 * {@link #describe()} says which, and every command prints it. The system property
 * {@value #PROPERTY} overrides the choice: {@code native}, {@code java} (the Vector API kernel),
 * {@code netlib-java}, {@code per-shape} or {@code auto} (the default). A forced choice that cannot be honoured
 * fails the first use of this class with an {@link ExceptionInInitializerError} whose cause
 * says what is missing, rather than quietly running something else. Products are split by rows of C over {@link #threads()}
 * Java threads, each calling a single-threaded kernel, so set {@code OPENBLAS_NUM_THREADS=1}
 * (the {@code ringtmp} launcher does) and choose the thread count here; OpenBLAS's own threads
 * on top of ours would oversubscribe the cores.
 *
 * <p>Thread-safety: products may run from any thread; {@link #setThreads} should be called once,
 * at start-up, before training begins.
 */
public final class Blas {
    /** The kinds of kernel. */
    public enum Backend {
        /** A native BLAS (OpenBLAS on Debian) through netlib's JNI shim. */
        NATIVE,
        /** RingTMP's cache-blocked Java kernel on the JDK Vector API. */
        JAVA_VECTOR,
        /** netlib's pure-Java sgemm: no cache blocking, a few GFLOP/s on large layers. */
        JAVA_NETLIB,
        /**
         * Per product shape, the faster of native OpenBLAS and the Vector API kernel, timed at the
         * shape's first product and cached per machine ({@link KernelChooser}).
         */
        PER_SHAPE
    }

    /** netlib's switch for native loading. */
    private static final String ALLOW_NATIVE = "dev.ludovic.netlib.blas.allowNative";
    /** The system property that forces a backend: native, java, netlib-java or auto. */
    public static final String PROPERTY = "ringtmp.blas";
    /**
     * The system property naming the file where per-shape kernel choices persist, or {@code off}
     * for none (default: {@code ~/.cache/ringtmp/sgemm-kernels-<machine>.txt}, see
     * {@link #kernelCacheFile()}).
     */
    public static final String CACHE_PROPERTY = "ringtmp.kernelCache";
    /**
     * Products with fewer multiply-adds than this are not timed: the first kernel (native, whose
     * call costs least) runs them. A timing costs a few milliseconds; these take microseconds.
     */
    static final long MIN_TIMED_WORK = 1L << 18;

    private static final Gemm GEMM;
    private static final Backend BACKEND;
    /** The per-shape chooser when {@link #BACKEND} is {@link Backend#PER_SHAPE}, else null. */
    private static final KernelChooser CHOOSER;
    /** The speed note for the Java kernel; the ratio is measured in docs/benchmarks-gemm.md. */
    private static final String JAVA_VECTOR_NOTE = "native OpenBLAS (apt-get install libopenblas0-pthread) "
            + "is about 1.3x faster than this Java kernel on large layers with AVX-512, more on small ones";
    /** Why the choice differs from what auto would give, or why it had to fall back; may be empty. */
    private static final String CHOICE_NOTE;
    /** True when {@value #PROPERTY} named the backend. */
    private static final boolean FORCED;
    /** Below this many multiply-adds per thread a product runs on the caller's thread alone. */
    private static final long MIN_WORK_PER_THREAD = 1L << 20;

    static {
        String wanted = System.getProperty(PROPERTY, "auto").trim().toLowerCase(java.util.Locale.ROOT);
        Gemm gemm;
        Backend backend;
        String note = "";
        switch (wanted) {
            case "auto", "" -> {
                NetlibGemm netlib = loadNetlib();
                Gemm vector = vectorGemmOrNull();
                if (netlib.isNative() && (netlib.library().kind() == NativeBlasLibrary.Kind.OPENBLAS || vector == null)) {
                    gemm = netlib;
                    backend = Backend.NATIVE;
                } else if (netlib.isNative()) {
                    // Not OpenBLAS: perhaps the reference BLAS. Measure it against the Java kernel.
                    io.ringtmp.tensor.internal.VectorGemm.warmUp();
                    double nativeRate = GemmProbe.gflops(netlib);
                    double vectorRate = GemmProbe.gflops(vector);
                    String rates = String.format(java.util.Locale.ROOT, "%s (%s) ran a %dx%dx%d product at %.1f GFLOP/s, "
                                    + "RingTMP's Java kernel at %.1f", netlib.library().name(), netlib.library().file(), 128, 256, 256,
                            nativeRate, vectorRate);
                    if (nativeRate >= vectorRate) {
                        gemm = netlib;
                        backend = Backend.NATIVE;
                        note = rates + "; OpenBLAS (apt-get install libopenblas0-pthread) may be faster still";
                    } else {
                        gemm = vector;
                        backend = Backend.JAVA_VECTOR;
                        note = "SLOW NATIVE BLAS: " + rates + ", so the Java kernel is used; install OpenBLAS "
                                + "(apt-get install libopenblas0-pthread) for full speed";
                    }
                } else if (vector != null) {
                    gemm = vector;
                    backend = Backend.JAVA_VECTOR;
                } else {
                    gemm = netlib;
                    backend = Backend.JAVA_NETLIB;
                    note = "the jdk.incubator.vector module is missing (run java with "
                            + "--add-modules=jdk.incubator.vector), so RingTMP's Java kernel is off";
                }
            }
            case "per-shape" -> {
                // Both fast kernels must load: which is faster depends on the shape (and on
                // OPENBLAS_CORETYPE), so each shape is timed.
                NetlibGemm netlib = loadNetlib();
                if (!netlib.isNative() || netlib.library().kind() != NativeBlasLibrary.Kind.OPENBLAS || vectorGemmOrNull() == null) {
                    throw new IllegalStateException(PROPERTY + "=per-shape needs both OpenBLAS (apt-get install libopenblas0-pthread) "
                            + "and the jdk.incubator.vector module (--add-modules=jdk.incubator.vector)");
                }
                gemm = netlib;
                backend = Backend.PER_SHAPE;
                note = "per-shape kernel choice, by -D" + PROPERTY + "=per-shape";
            }
            case "native" -> {
                NetlibGemm netlib = loadNetlib();
                if (!netlib.isNative()) {
                    throw new IllegalStateException(PROPERTY + "=native but netlib found no native BLAS "
                            + "(libopenblas.so.0 or libblas.so.3); install OpenBLAS (apt-get install libopenblas0-pthread) or use "
                            + PROPERTY + "=java");
                }
                gemm = netlib;
                backend = Backend.NATIVE;
            }
            case "java" -> {
                gemm = vectorGemmOrNull();
                if (gemm == null) {
                    throw new IllegalStateException(PROPERTY + "=java but the jdk.incubator.vector module is "
                            + "not present; run java with --add-modules=jdk.incubator.vector");
                }
                backend = Backend.JAVA_VECTOR;
                note = "forced by -D" + PROPERTY + "=java";
            }
            case "netlib-java" -> {
                gemm = new NetlibGemm(JavaBLAS.getInstance());
                backend = Backend.JAVA_NETLIB;
                note = "forced by -D" + PROPERTY + "=netlib-java";
            }
            default -> throw new IllegalArgumentException(PROPERTY + " must be one of auto, native, java, "
                    + "netlib-java, per-shape; got '" + System.getProperty(PROPERTY) + "'");
        }
        GEMM = gemm;
        BACKEND = backend;
        CHOICE_NOTE = note;
        FORCED = !wanted.equals("auto") && !wanted.isEmpty();
        if (backend == Backend.JAVA_VECTOR || backend == Backend.PER_SHAPE) {
            io.ringtmp.tensor.internal.VectorGemm.warmUp();
        }
        if (backend == Backend.PER_SHAPE) {
            Map<String, Gemm> kernels = new LinkedHashMap<>();
            kernels.put("openblas", gemm);
            kernels.put("vector", vectorGemmOrNull());
            String key = machineKey(kernels);
            CHOOSER = new KernelChooser(kernels, cacheFile(key), key, Blas::runWhole, KernelChooser.Clock.SYSTEM, System.err);
        } else {
            CHOOSER = null;
        }
    }

    /** What kernel timings depend on: the CPU, the JDK and each kernel's description (its version and settings). */
    private static String machineKey(Map<String, Gemm> kernels) {
        StringBuilder sb = new StringBuilder("cpu=").append(Cpu.model()).append("; flags=").append(Cpu.flagsDigest())
                .append("; jdk=").append(System.getProperty("java.vm.vendor")).append(' ').append(System.getProperty("java.vm.version"));
        kernels.forEach((id, g) -> sb.append("; ").append(id).append('=').append(g.description()));
        return sb.toString();
    }

    private static Path cacheFile(String key) {
        String prop = System.getProperty(CACHE_PROPERTY);
        if (prop != null && prop.equalsIgnoreCase("off")) {
            return null;
        }
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop);
        }
        String hash;
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(key.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            hash = java.util.HexFormat.of().formatHex(d, 0, 8);
        } catch (java.security.NoSuchAlgorithmException e) {
            hash = Integer.toHexString(key.hashCode());
        }
        return KernelChooser.defaultCacheFile("sgemm-kernels-" + hash + ".txt");
    }

    /** One product over whole arrays with a given kernel, split over threads as {@link #gemmInto} splits it: the chooser's timing. */
    private static void runWhole(Gemm kernel, KernelChooser.Shape s, float[] a, float[] b, float[] c) {
        Tensor ta = s.transA() ? Tensor.wrap(a, s.k(), s.m()) : Tensor.wrap(a, s.m(), s.k());
        Tensor tb = s.transB() ? Tensor.wrap(b, s.n(), s.k()) : Tensor.wrap(b, s.k(), s.n());
        gemmInto(kernel, 1f, ta, s.transA(), tb, s.transB(), 0f, Tensor.wrap(c, s.m(), s.n()));
    }

    /**
     * The per-shape choices this process has made or read from the cache, one line each, e.g.
     * {@code 128x784x512 NN threads=1: vector (openblas 98.1, vector 152.3 GFLOP/s)}; empty unless
     * the backend is {@link Backend#PER_SHAPE}.
     */
    public static List<String> kernelChoices() {
        if (CHOOSER == null) {
            return List.of();
        }
        return CHOOSER.choices().stream().map(KernelChooser.Choice::line).sorted().toList();
    }

    /**
     * Chooses now (from the cache, or by timing) the kernel for a product C[m x n] =
     * op(A)[m x k] · op(B)[k x n] at the current thread count, so that a trainer can time its
     * shapes at start-up, before anything else runs, instead of at its first step. Does nothing
     * unless the backend is {@link Backend#PER_SHAPE}.
     */
    public static void prepare(boolean transA, boolean transB, int m, int n, int k) {
        if (m < 1 || n < 1 || k < 1) {
            throw new IllegalArgumentException("prepare: dimensions must be >= 1, got m=" + m + " n=" + n + " k=" + k);
        }
        kernelFor(transA, transB, m, n, k);
    }

    /** Where per-shape choices persist (null: nowhere, or not choosing per shape). */
    public static Path kernelCacheFile() {
        return CHOOSER == null ? null : CHOOSER.cacheFile();
    }

    /** The kernel a product of this shape runs on, choosing it now when it is the shape's first. */
    private static Gemm kernelFor(boolean transA, boolean transB, int m, int n, int k) {
        if (CHOOSER == null || (long) m * n * k < MIN_TIMED_WORK) {
            return GEMM;
        }
        return CHOOSER.choose(new KernelChooser.Shape(transA, transB, m, n, k, Parallel.threads()));
    }

    /**
     * netlib's BLAS, its JNI shim pointed at OpenBLAS by name ({@link NativeBlasLibrary#locate})
     * unless the user named a library with netlib's own properties. Where no native library is
     * found, native loading is turned off so that the shim does not print its dlopen failure.
     */
    private static NetlibGemm loadNetlib() {
        Path requested;
        String userPath = System.getProperty(NativeBlasLibrary.PATH_PROPERTY);
        String userName = System.getProperty(NativeBlasLibrary.NAME_PROPERTY);
        if (userPath != null) {
            requested = Path.of(userPath);
        } else if (userName != null) {
            requested = Path.of(userName.startsWith("lib") ? userName : "lib" + userName + ".so");
        } else {
            Optional<Path> found = NativeBlasLibrary.locate(NativeBlasLibrary.loaderDirectories());
            if (found.isPresent()) {
                requested = found.get();
                System.setProperty(NativeBlasLibrary.PATH_PROPERTY, requested.toString());
            } else {
                requested = null;
                if (System.getProperty(ALLOW_NATIVE) == null) {
                    System.setProperty(ALLOW_NATIVE, "false");
                }
            }
        }
        BLAS blas = BLAS.getInstance();
        NetlibGemm probe = new NetlibGemm(blas);
        if (!probe.isNative()) {
            return probe;
        }
        return new NetlibGemm(blas, NativeBlasLibrary.identify(requested == null ? Path.of("libblas.so.3") : requested));
    }

    /**
     * The Vector API kernel, or null when the incubator module is absent. Loaded by name so that
     * this class still links on a JVM started without --add-modules=jdk.incubator.vector.
     */
    private static Gemm vectorGemmOrNull() {
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return null;
        }
        try {
            return (Gemm) Class.forName("io.ringtmp.tensor.internal.VectorGemm")
                    .getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            return null;
        }
    }

    /**
     * A kernel of the given kind when this process can run it, else null; for tests that check
     * every backend against a reference. The native one needs the library to be installed.
     */
    static Gemm kernelOrNull(Backend kind) {
        return switch (kind) {
            case NATIVE -> {
                NetlibGemm netlib = loadNetlib();
                yield netlib.isNative() ? netlib : null;
            }
            case JAVA_VECTOR -> vectorGemmOrNull();
            case JAVA_NETLIB -> new NetlibGemm(JavaBLAS.getInstance());
            case PER_SHAPE -> null;
        };
    }

    private Blas() {
    }

    public static Backend backend() {
        return BACKEND;
    }

    /** Whether products run (all, or per shape some) on a native BLAS. */
    public static boolean isNative() {
        return BACKEND == Backend.NATIVE || BACKEND == Backend.PER_SHAPE;
    }

    /** One line for logs: the kernel, the thread count, and any warning about speed. */
    public static String describe() {
        String kernels = CHOOSER == null ? GEMM.description()
                : "per product shape the faster of " + GEMM.description() + " and " + vectorGemmOrNull().description()
                + " (timed at a shape's first product; choices in " + (CHOOSER.cacheFile() == null ? "memory only" : CHOOSER.cacheFile()) + ")";
        StringBuilder sb = new StringBuilder("BLAS: ").append(kernels)
                .append(", ").append(Parallel.threads()).append(Parallel.threads() == 1 ? " thread" : " threads");
        String w = warning();
        if (!w.isEmpty()) {
            sb.append(" (").append(w).append(')');
        }
        return sb.toString();
    }

    /** Why this process will be slower than it could be, or the empty string. */
    public static String warning() {
        List<String> w = new ArrayList<>();
        if (!CHOICE_NOTE.isEmpty()) {
            w.add(CHOICE_NOTE);
        }
        if (BACKEND == Backend.JAVA_NETLIB) {
            w.add(FORCED ? "WARNING: netlib's Java sgemm falls to a few GFLOP/s on large layers"
                    : "WARNING: no native BLAS found; install OpenBLAS (apt-get install libopenblas0-pthread): "
                    + "netlib's Java sgemm falls to a few GFLOP/s on large layers");
        }
        if (BACKEND == Backend.JAVA_VECTOR && !CHOICE_NOTE.startsWith("SLOW")) {
            w.add(JAVA_VECTOR_NOTE);
        }
        String core = System.getenv("OPENBLAS_CORETYPE");
        if (isNative() && core != null && !core.isBlank() && Cpu.hasAvx512()
                && core.equalsIgnoreCase("Haswell")) {
            w.add("OPENBLAS_CORETYPE=" + core + " limits OpenBLAS to AVX2 on this AVX-512 CPU, about half speed"
                    + (CHOOSER != null ? " (shapes where the Java kernel is faster use it)" : "")
                    + "; unset it or set OPENBLAS_CORETYPE=SkylakeX");
        }
        String ot = System.getenv("OPENBLAS_NUM_THREADS");
        if (isNative() && Parallel.threads() > 1 && (ot == null || !ot.trim().equals("1"))) {
            w.add("OPENBLAS_NUM_THREADS is " + (ot == null ? "unset" : ot)
                    + "; set it to 1, RingTMP runs its own threads");
        }
        return String.join("; ", w);
    }

    public static int threads() {
        return Parallel.threads();
    }

    /** Sets how many threads each product may use; the same as {@link Parallel#setThreads}. */
    public static void setThreads(int n) {
        Parallel.setThreads(n);
    }

    /** c = a · b. */
    public static void matmulInto(Tensor a, Tensor b, Tensor c) {
        gemmInto(1f, a, false, b, false, 0f, c);
    }

    /**
     * c = alpha · op(a) · op(b) + beta · c, all read as matrices {@code [rows, cols]}; op
     * transposes when its flag is set. With beta = 0, c's old contents are ignored.
     *
     * @throws ShapeException naming the shapes when they do not fit
     */
    public static void gemmInto(float alpha, Tensor a, boolean transA, Tensor b, boolean transB,
                                float beta, Tensor c) {
        gemmInto(null, alpha, a, transA, b, transB, beta, c, null);
    }

    /**
     * Element-wise work on a block of a product's output, run right after the kernel has written
     * that block, on the thread that wrote it, while it is still in that core's cache: rows
     * {@code [rowFrom, rowTo)} and columns {@code [colFrom, colTo)} of C. Blocks of one product
     * are disjoint and together cover C; they may run at the same time on different threads.
     */
    @FunctionalInterface
    public interface Epilogue {
        void apply(int rowFrom, int rowTo, int colFrom, int colTo);
    }

    /**
     * {@link #gemmInto(float, Tensor, boolean, Tensor, boolean, float, Tensor)}, then
     * {@code epilogue} on each block of C as soon as it is done (see {@link Epilogue}): how a
     * layer fuses its bias, activation or update into the product instead of a pass of its own.
     */
    public static void gemmInto(float alpha, Tensor a, boolean transA, Tensor b, boolean transB,
                                float beta, Tensor c, Epilogue epilogue) {
        gemmInto(null, alpha, a, transA, b, transB, beta, c, epilogue);
    }

    /** {@link #gemmInto(float, Tensor, boolean, Tensor, boolean, float, Tensor)} on a given kernel (null: the one for the shape). */
    static void gemmInto(Gemm given, float alpha, Tensor a, boolean transA, Tensor b, boolean transB,
                         float beta, Tensor c) {
        gemmInto(given, alpha, a, transA, b, transB, beta, c, null);
    }

    private static void gemmInto(Gemm given, float alpha, Tensor a, boolean transA, Tensor b, boolean transB,
                                 float beta, Tensor c, Epilogue epilogue) {
        int m = transA ? a.cols() : a.rows();
        int k = transA ? a.rows() : a.cols();
        int kb = transB ? b.cols() : b.rows();
        int n = transB ? b.rows() : b.cols();
        if (k != kb) {
            throw new ShapeException("matmul: inner dimensions differ: a " + a.shapeString() + (transA ? "ᵀ" : "")
                    + " vs b " + b.shapeString() + (transB ? "ᵀ" : ""));
        }
        if (c.rows() != m || c.cols() != n) {
            throw new ShapeException("matmul: output " + c.shapeString() + " should be [" + m + ", " + n
                    + "] for a " + a.shapeString() + (transA ? "ᵀ" : "") + " and b " + b.shapeString() + (transB ? "ᵀ" : ""));
        }
        if (m == 0 || n == 0) {
            return;
        }
        if (k == 0) {
            if (beta == 0f) {
                c.fill(0f);
            } else {
                c.scaleInPlace(beta);
            }
            if (epilogue != null) {
                epilogue.apply(0, m, 0, n);
            }
            return;
        }
        Gemm gemm = given != null ? given : kernelFor(transA, transB, m, n, k);
        int lda = a.cols(), ldb = b.cols(), ldc = n;
        long work = (long) m * n * k;
        // Split the longer side of C: rows of op(A) for tall products, columns of op(B) for wide
        // ones (the weight gradients xᵀ·dy of a small batch are wide); each part is a whole
        // single-threaded product, so B (or A) is packed once per part, not once per tile.
        boolean byColumns = n > m;
        int parts = (int) Math.max(1, Math.min(Integer.MAX_VALUE, work / MIN_WORK_PER_THREAD));
        Parallel.forRange(byColumns ? n : m, byColumns ? 16 : 8, parts, (from, to) -> {
            part(gemm, byColumns, alpha, a, transA, lda, b, transB, ldb, beta, c, ldc, m, n, k, from, to);
            if (epilogue != null) {
                if (byColumns) {
                    epilogue.apply(0, m, from, to);
                } else {
                    epilogue.apply(from, to, 0, n);
                }
            }
        });
    }

    /** One part of C: rows or columns {@code [from, to)}. */
    private static void part(Gemm gemm, boolean byColumns, float alpha, Tensor a, boolean transA, int lda, Tensor b,
                             boolean transB, int ldb, float beta, Tensor c, int ldc, int m, int n, int k, int from, int to) {
        if (byColumns) {
            // Columns of op(B) are columns of B, or rows of B when transposed.
            int offB = b.offset() + (transB ? from * ldb : from);
            gemm.sgemm(transA, transB, m, to - from, k, alpha, a.data(), a.offset(), lda, b.data(), offB, ldb,
                    beta, c.data(), c.offset() + from, ldc);
        } else {
            // Rows of op(A) are rows of A, or columns of A when transposed.
            int offA = a.offset() + (transA ? from : from * lda);
            gemm.sgemm(transA, transB, to - from, n, k, alpha, a.data(), offA, lda, b.data(), b.offset(), ldb,
                    beta, c.data(), c.offset() + from * ldc, ldc);
        }
    }
}
