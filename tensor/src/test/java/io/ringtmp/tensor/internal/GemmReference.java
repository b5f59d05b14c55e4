package io.ringtmp.tensor.internal;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The independent reference for sgemm tests: a naive triple loop in double precision, and the
 * float32 error bound a correct kernel must meet.
 */
public final class GemmReference {
    private GemmReference() {
    }

    /** Row-major C = alpha op(A) op(B) + beta C in double; beta == 0 ignores C's old values. */
    public static double[] gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                float[] a, int offA, int lda, float[] b, int offB, int ldb,
                                float beta, float[] c, int offC, int ldc) {
        double[] out = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    sum += (double) a(transA, a, offA, lda, i, p) * b(transB, b, offB, ldb, p, j);
                }
                double old = beta == 0f ? 0 : (double) beta * c[offC + i * ldc + j];
                out[i * n + j] = alpha * sum + old;
            }
        }
        return out;
    }

    /**
     * Checks {@code actual} (m x n at offC, stride ldc) against the reference. Each element may
     * differ by the classic float32 bound for a k-term dot product, (k + 2) u times the sum of the
     * magnitudes of its terms (u = 2^-24 unit roundoff, two more roundings for alpha and beta).
     */
    public static void assertClose(String what, boolean transA, boolean transB, int m, int n, int k, float alpha,
                                   float[] a, int offA, int lda, float[] b, int offB, int ldb,
                                   float beta, float[] cBefore, float[] actual, int offC, int ldc) {
        double[] ref = gemm(transA, transB, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, cBefore, offC, ldc);
        double u = Math.ulp(1.0f) / 2;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double mag = 0;
                for (int p = 0; p < k; p++) {
                    mag += Math.abs((double) a(transA, a, offA, lda, i, p) * b(transB, b, offB, ldb, p, j));
                }
                mag = Math.abs(alpha) * mag + (beta == 0f ? 0 : Math.abs((double) beta * cBefore[offC + i * ldc + j]));
                double tol = (k + 2) * u * mag + Float.MIN_NORMAL;
                double got = actual[offC + i * ldc + j];
                double want = ref[i * n + j];
                if (!(Math.abs(got - want) <= tol)) {
                    fail(what + ": C[" + i + "][" + j + "] = " + got + ", reference " + want + ", allowed error " + tol);
                }
            }
        }
    }

    private static float a(boolean trans, float[] a, int off, int ld, int i, int p) {
        return trans ? a[off + p * ld + i] : a[off + i * ld + p];
    }

    private static float b(boolean trans, float[] b, int off, int ld, int p, int j) {
        return trans ? b[off + j * ld + p] : b[off + p * ld + j];
    }
}
