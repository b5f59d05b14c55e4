package io.ringtmp.tensor;

import dev.ludovic.netlib.blas.BLAS;
import io.ringtmp.tensor.internal.Gemm;
import io.ringtmp.tensor.internal.NetlibGemm;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The matrix-product facade every layer uses.
 *
 * <p>The kernel is chosen once per process: native OpenBLAS through netlib's JNI where the
 * library is installed, otherwise a Java kernel (see {@link Backend}); {@link #describe()} says
 * which, and every command prints it. Products are split by rows of C over {@link #threads()}
 * Java threads, each calling a single-threaded kernel, so set {@code OPENBLAS_NUM_THREADS=1}
 * (the {@code ringtmp} launcher does) and choose the thread count here; OpenBLAS's own threads
 * on top of ours would oversubscribe the cores.
 *
 * <p>Thread-safety: products may run from any thread; {@link #setThreads} should be called once,
 * at start-up, before training begins.
 */
public final class Blas {
    /** The kinds of kernel. */
    public enum Backend { NATIVE, JAVA_NETLIB }

    private static final Gemm GEMM;
    private static final Backend BACKEND;
    private static volatile int threads = 1;
    private static volatile ExecutorService pool;
    /** Below this many multiply-adds per thread a product runs on the caller's thread alone. */
    private static final long MIN_WORK_PER_THREAD = 1L << 20;

    static {
        NetlibGemm netlib = new NetlibGemm(BLAS.getInstance());
        GEMM = netlib;
        BACKEND = netlib.isNative() ? Backend.NATIVE : Backend.JAVA_NETLIB;
    }

    private Blas() {
    }

    public static Backend backend() {
        return BACKEND;
    }

    public static boolean isNative() {
        return BACKEND == Backend.NATIVE;
    }

    /** One line for logs: the kernel, the thread count, and any warning about speed. */
    public static String describe() {
        StringBuilder sb = new StringBuilder("BLAS: ").append(GEMM.description())
                .append(", ").append(threads).append(threads == 1 ? " thread" : " threads");
        String w = warning();
        if (!w.isEmpty()) {
            sb.append(" (").append(w).append(')');
        }
        return sb.toString();
    }

    /** Why this process will be slower than it could be, or the empty string. */
    public static String warning() {
        List<String> w = new ArrayList<>();
        if (BACKEND == Backend.JAVA_NETLIB) {
            w.add("WARNING: no native BLAS found; install OpenBLAS (apt-get install libopenblas0-pthread): "
                    + "netlib's Java sgemm falls to a few GFLOP/s on large layers");
        }
        String core = System.getenv("OPENBLAS_CORETYPE");
        if (BACKEND == Backend.NATIVE && core != null && !core.isBlank() && Cpu.hasAvx512()
                && core.equalsIgnoreCase("Haswell")) {
            w.add("OPENBLAS_CORETYPE=" + core + " limits OpenBLAS to AVX2 on this AVX-512 CPU, about half speed; "
                    + "unset it or set OPENBLAS_CORETYPE=SkylakeX");
        }
        String ot = System.getenv("OPENBLAS_NUM_THREADS");
        if (BACKEND == Backend.NATIVE && threads > 1 && (ot == null || !ot.trim().equals("1"))) {
            w.add("OPENBLAS_NUM_THREADS is " + (ot == null ? "unset" : ot)
                    + "; set it to 1, RingTMP runs its own threads");
        }
        return String.join("; ", w);
    }

    public static int threads() {
        return threads;
    }

    /** Sets how many threads each product may use (1 .. number of cores is sensible). */
    public static synchronized void setThreads(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + n);
        }
        if (n == threads) {
            return;
        }
        ExecutorService old = pool;
        pool = n > 1 ? Executors.newFixedThreadPool(n - 1, r -> {
            Thread t = new Thread(r, "ringtmp-blas");
            t.setDaemon(true);
            return t;
        }) : null;
        threads = n;
        if (old != null) {
            old.shutdown();
        }
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
            return;
        }
        int lda = a.cols(), ldb = b.cols(), ldc = n;
        int t = threads;
        ExecutorService p = pool;
        long work = (long) m * n * k;
        int parts = (int) Math.min(Math.min(t, m), Math.max(1, work / MIN_WORK_PER_THREAD));
        if (parts <= 1 || p == null) {
            GEMM.sgemm(transA, transB, m, n, k, alpha, a.data(), a.offset(), lda, b.data(), b.offset(), ldb,
                    beta, c.data(), c.offset(), ldc);
            return;
        }
        // Split C by rows; rows of op(A) are rows of A, or columns of A when transposed.
        List<Future<?>> futures = new ArrayList<>(parts - 1);
        int per = (m + parts - 1) / parts;
        for (int part = 1; part < parts; part++) {
            int r0 = part * per, r1 = Math.min(m, r0 + per);
            if (r0 >= r1) {
                break;
            }
            futures.add(p.submit(() -> rowsOf(alpha, a, transA, lda, b, transB, ldb, beta, c, ldc, r0, r1, n, k)));
        }
        rowsOf(alpha, a, transA, lda, b, transB, ldb, beta, c, ldc, 0, Math.min(m, per), n, k);
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted during matmul", e);
            } catch (ExecutionException e) {
                throw new IllegalStateException("matmul worker failed", e.getCause());
            }
        }
    }

    private static void rowsOf(float alpha, Tensor a, boolean transA, int lda, Tensor b, boolean transB, int ldb,
                               float beta, Tensor c, int ldc, int r0, int r1, int n, int k) {
        int offA = a.offset() + (transA ? r0 : r0 * lda);
        GEMM.sgemm(transA, transB, r1 - r0, n, k, alpha, a.data(), offA, lda, b.data(), b.offset(), ldb,
                beta, c.data(), c.offset() + r0 * ldc, ldc);
    }
}
