package io.ringtmp.tensor.internal;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A cache-blocked single-threaded sgemm written with the JDK Vector API: the pure-Java kernel
 * used where no native BLAS is installed.
 *
 * <p>The structure is the usual Goto/BLIS one. C is computed in blocks of {@link #NC} columns
 * and {@link #KC} steps of k; for each block the panel of op(B) is packed into slivers
 * {@link #NR} columns wide, and op(A) is packed in {@link #MC}-row blocks of slivers {@link #MR}
 * rows high, both with zero padding at the edges. A micro-kernel then keeps an
 * {@code MR x NR} tile of C in vector registers (MR rows times two vectors) while it walks k,
 * reading A and B contiguously whatever the transpose flags were. Packing makes the transposed
 * cases as fast as the plain one, and blocking keeps a B sliver in L1 and the A block in L2,
 * which is what netlib's Java sgemm lacks (it falls to a few GFLOP/s on large layers).
 *
 * <p>Semantics are BLAS's: with {@code beta == 0} C is written without being read, so NaN or
 * garbage there is ignored; with {@code alpha == 0} A and B are not read.
 *
 * <p>Thread-safety: the packing buffers are per thread (a {@link ThreadLocal}, grown on demand
 * and then reused, so steady-state calls allocate nothing), so any number of threads may call
 * {@link #sgemm} at once on disjoint parts of C.
 */
public final class VectorGemm implements Gemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Floats per vector: 16 with AVX-512, 8 with AVX2. */
    private static final int L = S.length();
    /** Rows of the register tile. Six rows times two vectors is 12 accumulators, which leaves
     *  room for the two B vectors and the broadcast even with only 16 AVX2 registers. */
    static final int MR = 6;
    /** Columns of the register tile: two vectors. */
    static final int NR = 2 * L;
    // Block sizes from a sweep on Zen 5 (48 KiB L1, 1 MiB L2) at 512^3, 2048^3, 128x784x512 and
    // 256x4096x4096; KC 256..512, MC 60..240 and NC 1024..4096 were all within 10% of each other,
    // this one was ahead at the large shapes.
    /** Steps of k per packed panel; a B sliver is KC x NR floats (64 KiB with AVX-512). */
    static final int KC = 512;
    /** Rows of A per packed block: MC x KC floats (120 KiB) stays in L2. Multiple of MR. */
    static final int MC = 10 * MR;
    /** Columns of B per packed panel (KC x NC floats, 4 MiB at most). Multiple of NR. */
    static final int NC = 2048 / NR * NR;
    /** Steps of k packed together from a transposed B (PB x NR floats, 8 KiB with AVX-512, stays in L1). */
    static final int PB = 64;

    /** Bumped whenever the kernel changes, so that cached per-shape timings ({@link KernelChooser}) of the old one are dropped. */
    static final int VERSION = 4;

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    /**
     * Runs every path of the kernel (each transpose pair, beta 0 and 1, full and edge tiles)
     * a few hundred times on small matrices, once per process, so that the JIT compiles it with
     * a complete profile. Without this, the first product of a new shape or transpose can hit an
     * uncommon trap: the compiled kernel is thrown away and the Vector API code runs
     * interpreted (orders of magnitude slower) until it is compiled again. About 0.3 s.
     */
    public static void warmUp() {
        synchronized (VectorGemm.class) {
            if (warmedUp) {
                return;
            }
            warmedUp = true;
        }
        VectorGemm g = new VectorGemm();
        int[][] shapes = {{MR * 2 + 3, NR * 2 + 5, 37}, {MC + 7, NR * 3, KC + 9}, {MR, NR, 16}};
        // sgemm itself must be called about 5,000 times before the JIT's last tier compiles it
        // (its Vector API packing runs 10-100x slower below that tier): the small shapes run
        // often, the one with several blocks (milliseconds at first) every tenth round.
        for (int round = 0; round < 640; round++) {
            for (int[] sh : shapes) {
                if (sh == shapes[1] && round % 10 != 0) {
                    continue;
                }
                int m = sh[0], n = sh[1], k = sh[2];
                float[] a = new float[m * k], b = new float[k * n], c = new float[m * n];
                for (int t = 0; t < 4; t++) {
                    boolean ta = t >= 2, tb = (t & 1) == 1;
                    g.sgemm(ta, tb, m, n, k, 1f, a, 0, ta ? m : k, b, 0, tb ? k : n, round % 2 == 0 ? 0f : 1f, c, 0, n);
                }
            }
        }
    }

    private static boolean warmedUp;

    /** Per-thread packing buffers; grown on first use for a shape, then reused. */
    private static final class Workspace {
        final float[] a = new float[MC * KC];
        final float[] tile = new float[MR * NR];
        float[] b = new float[0];

        float[] b(int size) {
            if (b.length < size) {
                b = new float[size];
            }
            return b;
        }
    }

    @Override
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int offA, int lda, float[] b, int offB, int ldb,
                      float beta, float[] c, int offC, int ldc) {
        if (m <= 0 || n <= 0) {
            return;
        }
        if (k <= 0 || alpha == 0f) {
            scale(m, n, beta, c, offC, ldc);
            return;
        }
        Workspace ws = WORKSPACE.get();
        float[] ap = ws.a;
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            int ncPadded = (nc + NR - 1) / NR * NR;
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                float[] bp = ws.b(ncPadded * kc);
                packB(transB, b, offB, ldb, pc, kc, jc, nc, bp);
                // Later k-panels add onto what the first one wrote.
                float betaHere = pc == 0 ? beta : 1f;
                for (int ic = 0; ic < m; ic += MC) {
                    int mc = Math.min(MC, m - ic);
                    packA(transA, a, offA, lda, ic, mc, pc, kc, ap);
                    for (int jr = 0; jr < nc; jr += NR) {
                        int nr = Math.min(NR, nc - jr);
                        int bo = jr * kc;
                        for (int ir = 0; ir < mc; ir += MR) {
                            int mr = Math.min(MR, mc - ir);
                            kernel(kc, ap, ir * kc, bp, bo, c, offC + (ic + ir) * ldc + jc + jr, ldc,
                                    mr, nr, alpha, betaHere, ws.tile);
                        }
                    }
                }
            }
        }
    }

    @Override
    public String description() {
        return "Java Vector API kernel v" + VERSION + " (" + L * 32 + "-bit, " + MR + "x" + NR + " tile)";
    }

    /** C = beta * C, writing zeros (not reading C) when beta is 0. */
    private static void scale(int m, int n, float beta, float[] c, int offC, int ldc) {
        for (int i = 0; i < m; i++) {
            int row = offC + i * ldc;
            if (beta == 0f) {
                java.util.Arrays.fill(c, row, row + n, 0f);
            } else if (beta != 1f) {
                for (int j = 0; j < n; j++) {
                    c[row + j] *= beta;
                }
            }
        }
    }

    /**
     * Packs op(B)[pc:pc+kc, jc:jc+nc] into slivers of NR columns: sliver s holds, for each
     * p in order, NR consecutive floats; columns past nc are zero.
     */
    private static void packB(boolean transB, float[] b, int offB, int ldb, int pc, int kc, int jc, int nc,
                              float[] bp) {
        for (int jr = 0; jr < nc; jr += NR) {
            int nr = Math.min(NR, nc - jr);
            int dst = jr * kc;
            if (!transB) {
                // op(B)(p, j) = b[p*ldb + j]: rows of the sliver are contiguous in b.
                int src = offB + pc * ldb + jc + jr;
                if (nr == NR) {
                    for (int p = 0; p < kc; p++, src += ldb, dst += NR) {
                        FloatVector.fromArray(S, b, src).intoArray(bp, dst);
                        FloatVector.fromArray(S, b, src + L).intoArray(bp, dst + L);
                    }
                } else {
                    for (int p = 0; p < kc; p++, src += ldb, dst += NR) {
                        System.arraycopy(b, src, bp, dst, nr);
                        java.util.Arrays.fill(bp, dst + nr, dst + NR, 0f);
                    }
                }
            } else {
                // op(B)(p, j) = b[j*ldb + p]: each column of the sliver is a contiguous run of b.
                // In steps of PB values of p: a whole sliver (KC x NR floats, 64 KiB) outgrows L1,
                // and walking one column of it at a time touched every one of its cache lines
                // once per column (the NT products ran at half the NN rate); PB rows of it stay in L1.
                for (int p0 = 0; p0 < kc; p0 += PB) {
                    int pe = Math.min(kc, p0 + PB);
                    for (int jj = 0; jj < nr; jj++) {
                        int src = offB + (jc + jr + jj) * ldb + pc;
                        for (int p = p0, d = dst + p0 * NR + jj; p < pe; p++, d += NR) {
                            bp[d] = b[src + p];
                        }
                    }
                }
                for (int jj = nr; jj < NR; jj++) {
                    for (int p = 0, d = dst + jj; p < kc; p++, d += NR) {
                        bp[d] = 0f;
                    }
                }
            }
        }
    }

    /**
     * Packs op(A)[ic:ic+mc, pc:pc+kc] into slivers of MR rows: sliver s holds, for each p in
     * order, MR consecutive floats; rows past mc are zero.
     */
    private static void packA(boolean transA, float[] a, int offA, int lda, int ic, int mc, int pc, int kc,
                              float[] ap) {
        for (int ir = 0; ir < mc; ir += MR) {
            int mr = Math.min(MR, mc - ir);
            int dst = ir * kc;
            if (!transA) {
                // op(A)(i, p) = a[i*lda + p]: each row of the sliver is a contiguous run of a.
                for (int r = 0; r < mr; r++) {
                    int src = offA + (ic + ir + r) * lda + pc;
                    for (int p = 0, d = dst + r; p < kc; p++, d += MR) {
                        ap[d] = a[src + p];
                    }
                }
                for (int r = mr; r < MR; r++) {
                    for (int p = 0, d = dst + r; p < kc; p++, d += MR) {
                        ap[d] = 0f;
                    }
                }
            } else {
                // op(A)(i, p) = a[p*lda + i]: the MR floats of one step are contiguous in a.
                int src = offA + pc * lda + ic + ir;
                for (int p = 0; p < kc; p++, src += lda, dst += MR) {
                    System.arraycopy(a, src, ap, dst, mr);
                    for (int r = mr; r < MR; r++) {
                        ap[dst + r] = 0f;
                    }
                }
            }
        }
    }

    /**
     * One MR x NR tile: C[tile] = alpha * Apanel · Bsliver + beta * C[tile], of which only the
     * top-left mr x nr part lies inside C (the rest is computed on zero padding and dropped).
     */
    private static void kernel(int kc, float[] ap, int ao, float[] bp, int bo, float[] c, int co, int ldc,
                               int mr, int nr, float alpha, float beta, float[] tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++, ao += MR, bo += NR) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
            FloatVector x = FloatVector.broadcast(S, ap[ao]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, ap[ao + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, ap[ao + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, ap[ao + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, ap[ao + 4]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, ap[ao + 5]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
        }
        if (mr == MR && nr == NR) {
            store(c00, c, co, alpha, beta);
            store(c01, c, co + L, alpha, beta);
            co += ldc;
            store(c10, c, co, alpha, beta);
            store(c11, c, co + L, alpha, beta);
            co += ldc;
            store(c20, c, co, alpha, beta);
            store(c21, c, co + L, alpha, beta);
            co += ldc;
            store(c30, c, co, alpha, beta);
            store(c31, c, co + L, alpha, beta);
            co += ldc;
            store(c40, c, co, alpha, beta);
            store(c41, c, co + L, alpha, beta);
            co += ldc;
            store(c50, c, co, alpha, beta);
            store(c51, c, co + L, alpha, beta);
            return;
        }
        // Edge tile: spill the registers and copy the part inside C with scalars. The arithmetic
        // matches store() operation for operation (fused where it fuses), so a row of C comes out
        // bit-identical whether it fell in a full tile or an edge tile, e.g. when Blas splits rows
        // over threads.
        c00.intoArray(tile, 0);
        c01.intoArray(tile, L);
        c10.intoArray(tile, NR);
        c11.intoArray(tile, NR + L);
        c20.intoArray(tile, 2 * NR);
        c21.intoArray(tile, 2 * NR + L);
        c30.intoArray(tile, 3 * NR);
        c31.intoArray(tile, 3 * NR + L);
        c40.intoArray(tile, 4 * NR);
        c41.intoArray(tile, 4 * NR + L);
        c50.intoArray(tile, 5 * NR);
        c51.intoArray(tile, 5 * NR + L);
        copyEdge(tile, c, co, ldc, mr, nr, alpha, beta);
    }

    /**
     * The part of a spilled edge tile inside C. A method of its own, called from a cold branch so
     * that the JIT does not inline it: inlined, its loops' profile-based predicates failed
     * whenever a new edge size came (trap: profile_predicate), and each failure threw away the
     * compiled {@link #kernel}, whose Vector API code then ran interpreted, 10-100 times slower,
     * until it was compiled again (seconds on a busy machine).
     */
    private static void copyEdge(float[] tile, float[] c, int co, int ldc, int mr, int nr, float alpha, float beta) {
        for (int r = 0; r < mr; r++) {
            int row = co + r * ldc;
            for (int j = 0; j < nr; j++) {
                float acc = tile[r * NR + j];
                c[row + j] = beta == 0f ? acc * alpha
                        : Math.fma(acc, alpha, beta == 1f ? c[row + j] : c[row + j] * beta);
            }
        }
    }

    private static void store(FloatVector acc, float[] c, int i, float alpha, float beta) {
        if (beta == 0f) {
            acc.mul(alpha).intoArray(c, i);
        } else if (beta == 1f) {
            acc.fma(FloatVector.broadcast(S, alpha), FloatVector.fromArray(S, c, i)).intoArray(c, i);
        } else {
            acc.fma(FloatVector.broadcast(S, alpha), FloatVector.fromArray(S, c, i).mul(beta)).intoArray(c, i);
        }
    }
}
