package io.ringtmp.tensor.internal;

import dev.ludovic.netlib.blas.BLAS;

/** sgemm through dev.ludovic.netlib: native (JNI to OpenBLAS) or netlib's own Java code. */
public final class NetlibGemm implements Gemm {
    private final BLAS blas;
    /** The native library netlib loaded, or null for netlib's Java code. */
    private final NativeBlasLibrary library;

    /** netlib's {@code blas}; {@code library} names what its JNI shim loaded (null when it is Java). */
    public NetlibGemm(BLAS blas, NativeBlasLibrary library) {
        this.blas = blas;
        this.library = library;
    }

    /** netlib's Java code, or a native BLAS whose file is not known. */
    public NetlibGemm(BLAS blas) {
        this(blas, null);
    }

    /** The native library in use, or null. */
    public NativeBlasLibrary library() {
        return library;
    }

    /** True when netlib found a native BLAS (its JNI shim loaded libblas.so.3). */
    public boolean isNative() {
        return blas.getClass().getSimpleName().startsWith("JNI");
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int offA, int lda, float[] b, int offB, int ldb,
                      float beta, float[] c, int offC, int ldc) {
        // netlib is column-major: a row-major C (m x n) is a column-major C^T (n x m), and
        // C^T = op(B)^T op(A)^T, so the operands swap places and keep their transpose flags.
        blas.sgemm(transB ? "T" : "N", transA ? "T" : "N", n, m, k, alpha,
                b, offB, ldb, a, offA, lda, beta, c, offC, ldc);
    }

    @Override
    public String description() {
        if (!isNative()) {
            return "netlib pure-Java " + blas.getClass().getSimpleName();
        }
        if (library == null) {
            return "native BLAS via netlib " + blas.getClass().getSimpleName();
        }
        String k = library.kernels();
        return library.name() + (k.isEmpty() ? "" : ", " + k) + " (" + library.file() + ", through netlib's JNI)";
    }
}
