package io.ringtmp.tensor.internal;

import java.util.Arrays;

/**
 * A short sgemm timing at start-up, to tell a slow native BLAS (the reference one) from a fast
 * one: a few single-threaded products of a training-sized shape, the median rate.
 */
public final class GemmProbe {
    /** The probe's shape: a 128-row batch through a 256-wide layer. */
    static final int M = 128, N = 256, K = 256;
    private static final int WARMUP = 2, TIMED = 5;

    private GemmProbe() {
    }

    /** The median GFLOP/s of {@code gemm} on a {@code 128 x 256 x 256} product; about 50 ms on the slowest library. */
    public static double gflops(Gemm gemm) {
        float[] a = new float[M * K], b = new float[K * N], c = new float[M * N];
        for (int i = 0; i < a.length; i++) {
            a[i] = (i % 17) * 0.01f;
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (i % 13) * 0.01f;
        }
        double[] rates = new double[TIMED];
        for (int r = 0; r < WARMUP + TIMED; r++) {
            long t0 = System.nanoTime();
            gemm.sgemm(false, false, M, N, K, 1f, a, 0, K, b, 0, N, 0f, c, 0, N);
            long ns = Math.max(1, System.nanoTime() - t0);
            if (r >= WARMUP) {
                rates[r - WARMUP] = 2.0 * M * N * K / ns;
            }
        }
        Arrays.sort(rates);
        return rates[TIMED / 2];
    }
}
