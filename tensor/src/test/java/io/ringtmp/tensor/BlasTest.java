package io.ringtmp.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ringtmp.tensor.internal.Gemm;
import io.ringtmp.tensor.internal.GemmReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class BlasTest {
    @AfterEach
    void oneThread() {
        Blas.setThreads(1);
    }

    /** Every backend this process can run; the native one only where OpenBLAS is installed. */
    private static List<Blas.Backend> available() {
        List<Blas.Backend> out = new ArrayList<>();
        for (Blas.Backend kind : Blas.Backend.values()) {
            if (Blas.kernelOrNull(kind) != null) {
                out.add(kind);
            }
        }
        return out;
    }

    private static Tensor random(Random r, int rows, int cols) {
        Tensor t = Tensor.zeros(rows, cols);
        for (int i = 0; i < t.size(); i++) {
            t.set(i, r.nextFloat() * 2 - 1);
        }
        return t;
    }

    private static void checkOne(Gemm gemm, String what, int m, int k, int n, boolean ta, boolean tb,
                                 float alpha, float beta, long seed) {
        Random r = new Random(seed);
        Tensor a = ta ? random(r, k, m) : random(r, m, k);
        Tensor b = tb ? random(r, n, k) : random(r, k, n);
        // Views at a non-zero offset, as a layer gets from Tensor.rows().
        Tensor cParent = random(r, m + 2, n);
        Tensor c = cParent.rows(1, m + 1);
        float[] before = cParent.data().clone();
        Blas.gemmInto(gemm, alpha, a, ta, b, tb, beta, c);
        GemmReference.assertClose(what + " " + (ta ? "T" : "N") + (tb ? "T" : "N") + " " + m + "x" + k + "x" + n,
                ta, tb, m, n, k, alpha, a.data(), a.offset(), a.cols(), b.data(), b.offset(), b.cols(),
                beta, before, c.data(), c.offset(), n);
    }

    @Test
    void gemmInto_everyBackend_matchesReference() {
        List<Blas.Backend> kinds = available();
        assertTrue(kinds.contains(Blas.Backend.JAVA_VECTOR), "tests run with the Vector API module");
        int[][] shapes = {{1, 1, 1}, {3, 5, 7}, {17, 33, 65}, {64, 1, 64}, {130, 70, 90}};
        long seed = 1;
        for (Blas.Backend kind : kinds) {
            Gemm gemm = Blas.kernelOrNull(kind);
            for (int[] s : shapes) {
                for (int t = 0; t < 4; t++) {
                    checkOne(gemm, kind.name(), s[0], s[1], s[2], t >= 2, t % 2 == 1, 1f, 0f, seed++);
                    checkOne(gemm, kind.name(), s[0], s[1], s[2], t >= 2, t % 2 == 1, -0.5f, 1f, seed++);
                }
            }
        }
    }

    @Test
    void gemmInto_defaultBackend_matchesReference() {
        Random r = new Random(3);
        Tensor a = random(r, 9, 4), b = random(r, 4, 6), c = Tensor.zeros(9, 6);
        Blas.matmulInto(a, b, c);
        float[] ref = new float[54];
        for (int i = 0; i < 9; i++) {
            for (int j = 0; j < 6; j++) {
                double s = 0;
                for (int p = 0; p < 4; p++) {
                    s += a.get(i, p) * b.get(p, j);
                }
                ref[i * 6 + j] = (float) s;
            }
        }
        assertArrayEquals(ref, c.toArray(), 1e-5f);
    }

    @Test
    void twoThreads_everyBackend_matchOneThread() {
        // Large enough that gemmInto really splits (see MIN_WORK_PER_THREAD); one tall (split by
        // rows) and one wide (split by columns) product.
        for (int[] shape : new int[][]{{131, 150, 120}, {70, 90, 333}}) {
            twoThreadsMatchOneThread(shape[0], shape[1], shape[2]);
        }
    }

    private static void twoThreadsMatchOneThread(int m, int k, int n) {
        for (Blas.Backend kind : available()) {
            Gemm gemm = Blas.kernelOrNull(kind);
            for (int t = 0; t < 4; t++) {
                boolean ta = t >= 2, tb = t % 2 == 1;
                Random r = new Random(t);
                Tensor a = ta ? random(r, k, m) : random(r, m, k);
                Tensor b = tb ? random(r, n, k) : random(r, k, n);
                Tensor c0 = random(r, m, n);
                Tensor c1 = c0.copy(), c2 = c0.copy();
                Blas.setThreads(1);
                Blas.gemmInto(gemm, 0.75f, a, ta, b, tb, 0.5f, c1);
                Blas.setThreads(2);
                Blas.gemmInto(gemm, 0.75f, a, ta, b, tb, 0.5f, c2);
                String what = kind + " " + (ta ? "T" : "N") + (tb ? "T" : "N");
                if (kind == Blas.Backend.JAVA_VECTOR) {
                    assertArrayEquals(c1.toArray(), c2.toArray(), what + " bit-identical");
                } else {
                    // OpenBLAS may pick other kernels for the smaller halves.
                    assertArrayEquals(c1.toArray(), c2.toArray(), 1e-4f, what);
                }
                GemmReference.assertClose(what + " 2 threads", ta, tb, m, n, k, 0.75f, a.data(), 0, a.cols(),
                        b.data(), 0, b.cols(), 0.5f, c0.data(), c2.data(), 0, n);
            }
        }
    }

    @Test
    void innerMismatch_namesBothShapes() {
        ShapeException e = assertThrows(ShapeException.class,
                () -> Blas.matmulInto(Tensor.zeros(3, 4), Tensor.zeros(5, 6), Tensor.zeros(3, 6)));
        assertTrue(e.getMessage().contains("[3, 4]") && e.getMessage().contains("[5, 6]"), e.getMessage());
    }

    @Test
    void wrongOutput_namesAllShapes() {
        ShapeException e = assertThrows(ShapeException.class,
                () -> Blas.gemmInto(1f, Tensor.zeros(4, 3), true, Tensor.zeros(6, 4), true, 0f, Tensor.zeros(3, 5)));
        String msg = e.getMessage();
        assertTrue(msg.contains("[3, 5]") && msg.contains("[3, 6]") && msg.contains("[4, 3]") && msg.contains("[6, 4]"), msg);
    }

    @Test
    void kZero_betaZero_clearsGarbage() {
        Tensor c = Tensor.zeros(2, 3);
        c.fill(Float.NaN);
        Blas.gemmInto(1f, Tensor.zeros(2, 0), false, Tensor.zeros(0, 3), false, 0f, c);
        assertArrayEquals(new float[6], c.toArray());
    }

    @Test
    void describe_namesKernelAndThreads() {
        String d = Blas.describe();
        assertNotNull(Blas.backend());
        assertTrue(d.startsWith("BLAS: ") && d.contains("1 thread"), d);
        if (Blas.backend() == Blas.Backend.JAVA_VECTOR) {
            assertTrue(d.contains("OpenBLAS"), d);
        }
    }

    @Test
    void setThreads_zero_isRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Blas.setThreads(0));
        assertEquals("threads must be >= 1, got 0", e.getMessage());
    }
}
