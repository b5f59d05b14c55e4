package io.ringtmp.tensor.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class VectorGemmTest {
    private static final Gemm GEMM = new VectorGemm();
    private static final String[] MODES = {"NN", "NT", "TN", "TT"};

    /**
     * Runs one product on sub-matrix views: every operand sits at a non-zero offset in a larger
     * array with a leading dimension wider than its logical width, and everything outside the
     * logical matrices is NaN, so a kernel that reads or writes past an edge fails loudly.
     */
    private static void check(String mode, int m, int k, int n, float alpha, float beta, long seed) {
        boolean ta = mode.charAt(0) == 'T', tb = mode.charAt(1) == 'T';
        Random r = new Random(seed);
        int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
        int lda = aCols + 3, ldb = bCols + 5, ldc = n + 2;
        int offA = 7, offB = 11, offC = 13;
        float[] a = matrix(r, offA, aRows, aCols, lda);
        float[] b = matrix(r, offB, bRows, bCols, ldb);
        float[] c = matrix(r, offC, m, n, ldc);
        if (beta == 0f) {
            // beta = 0 must not read C: NaN there would otherwise leak into the result.
            for (int i = 0; i < m; i++) {
                Arrays.fill(c, offC + i * ldc, offC + i * ldc + n, Float.NaN);
            }
        }
        float[] before = c.clone();
        GEMM.sgemm(ta, tb, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, c, offC, ldc);
        String what = mode + " " + m + "x" + k + "x" + n + " alpha=" + alpha + " beta=" + beta;
        GemmReference.assertClose(what, ta, tb, m, n, k, alpha, a, offA, lda, b, offB, ldb, beta, before, c, offC, ldc);
        for (int idx = 0; idx < c.length; idx++) {
            int rel = idx - offC;
            boolean inside = rel >= 0 && rel / ldc < m && rel % ldc < n;
            if (!inside) {
                assertEquals(Float.floatToRawIntBits(before[idx]), Float.floatToRawIntBits(c[idx]),
                        what + ": wrote outside C at array index " + idx);
            }
        }
    }

    /** A NaN-filled array holding a rows x cols matrix of values in [-1, 1) at off with stride ld. */
    private static float[] matrix(Random r, int off, int rows, int cols, int ld) {
        float[] x = new float[off + Math.max(0, rows - 1) * ld + cols + 4];
        Arrays.fill(x, Float.NaN);
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                x[off + i * ld + j] = r.nextFloat() * 2 - 1;
            }
        }
        return x;
    }

    @ParameterizedTest
    @ValueSource(strings = {"NN", "NT", "TN", "TT"})
    void oddShapes_allTransposes_matchReference(String mode) {
        int[][] shapes = {
                {1, 1, 1}, {3, 5, 7}, {17, 33, 65}, {64, 1, 64}, {1, 64, 1}, {6, 7, 32}, {7, 6, 33},
                {5, 2, 31}, {13, 100, 10}, {128, 10, 50}, {31, 17, 47}, {2, 300, 3},
        };
        long seed = 1;
        for (int[] s : shapes) {
            check(mode, s[0], s[1], s[2], 1f, 0f, seed++);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"NN", "NT", "TN", "TT"})
    void shapesCrossingEveryBlock_matchReference(String mode) {
        // m past MC, k past KC (so later k-panels accumulate onto the first), n past NC.
        check(mode, VectorGemm.MC + VectorGemm.MR + 1, 9, 40, 1f, 0f, 21);
        check(mode, 8, VectorGemm.KC * 2 + 3, 35, 1f, 1f, 22);
        check(mode, 3, 4, VectorGemm.NC + VectorGemm.NR + 1, 1f, 0f, 23);
        check(mode, 70, 530, 100, 0.5f, -2f, 24);
    }

    @Test
    void alphaAndBeta_allTransposes_matchReference() {
        float[][] ab = {{1f, 1f}, {2f, 0f}, {-0.5f, 1f}, {1.5f, -3f}, {0f, 2f}, {0f, 0f}};
        long seed = 100;
        for (String mode : MODES) {
            for (float[] x : ab) {
                check(mode, 19, 23, 37, x[0], x[1], seed++);
                check(mode, 12, 16, 64, x[0], x[1], seed++);
            }
        }
    }

    @Test
    void kZero_scalesOrClearsC() {
        for (String mode : MODES) {
            check(mode, 5, 0, 9, 1f, 0f, 7);
            check(mode, 5, 0, 9, 1f, 3f, 8);
        }
    }

    @Test
    void emptyOutput_touchesNothing() {
        float[] c = {Float.NaN};
        GEMM.sgemm(false, false, 0, 5, 3, 1f, new float[15], 0, 3, new float[15], 0, 5, 0f, c, 0, 5);
        GEMM.sgemm(false, false, 5, 0, 3, 1f, new float[15], 0, 3, new float[15], 0, 1, 0f, c, 0, 1);
        assertTrue(Float.isNaN(c[0]));
    }

    @Test
    void rowSplit_isBitIdenticalToOneCall() {
        // Blas splits C by rows over threads; each row must come out the same whichever tile
        // (full or edge) it lands in.
        Random r = new Random(5);
        int m = 50, k = 70, n = 45;
        float[] a = new float[m * k], b = new float[k * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = r.nextFloat() - 0.5f;
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = r.nextFloat() - 0.5f;
        }
        for (float beta : new float[] {0f, 1f, 0.5f}) {
            float[] whole = new float[m * n], split = new float[m * n];
            Arrays.fill(whole, 0.25f);
            Arrays.fill(split, 0.25f);
            GEMM.sgemm(false, false, m, n, k, 1.5f, a, 0, k, b, 0, n, beta, whole, 0, n);
            int cut = 23;
            GEMM.sgemm(false, false, cut, n, k, 1.5f, a, 0, k, b, 0, n, beta, split, 0, n);
            GEMM.sgemm(false, false, m - cut, n, k, 1.5f, a, cut * k, k, b, 0, n, beta, split, cut * n, n);
            assertTrue(Arrays.equals(whole, split), "beta=" + beta);
        }
    }
}
