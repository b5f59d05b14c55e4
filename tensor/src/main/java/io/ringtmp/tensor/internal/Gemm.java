package io.ringtmp.tensor.internal;

/**
 * A single-threaded row-major sgemm: {@code C = alpha * op(A) * op(B) + beta * C} where C is
 * {@code m x n}, op(A) is {@code m x k} and op(B) is {@code k x n}. Leading dimensions are those
 * of the arrays as stored (row-major). Implementations must be safe to call from several threads
 * at once on disjoint parts of C.
 */
public interface Gemm {
    void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
               float[] a, int offA, int lda, float[] b, int offB, int ldb,
               float beta, float[] c, int offC, int ldc);

    /** A one-line description for logs, e.g. {@code native OpenBLAS (JNIBLAS)}. */
    String description();
}
