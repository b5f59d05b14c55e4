package io.ringtmp.tensor.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-shape kernel choice: real kernels compute the products (the Vector API kernel, a plain
 * triple loop, and one that is wrong on purpose); only the clock is fake, so that which kernel is
 * "faster" is decided by the test, not by this machine's load.
 */
@Timeout(60)
class KernelChooserTest {
    private static final KernelChooser.Shape SHAPE = new KernelChooser.Shape(false, true, 40, 70, 30, 1);

    /** A correct, slow kernel: the textbook loop. */
    static final class LoopGemm implements Gemm {
        @Override
        public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int offA, int lda,
                          float[] b, int offB, int ldb, float beta, float[] c, int offC, int ldc) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    float s = 0;
                    for (int p = 0; p < k; p++) {
                        s += (transA ? a[offA + p * lda + i] : a[offA + i * lda + p]) * (transB ? b[offB + j * ldb + p] : b[offB + p * ldb + j]);
                    }
                    int at = offC + i * ldc + j;
                    c[at] = alpha * s + (beta == 0f ? 0f : beta * c[at]);
                }
            }
        }

        @Override
        public String description() {
            return "loop";
        }
    }

    /** A kernel that ignores transB: right for NN, wrong for NT. */
    static final class IgnoresTransposeGemm implements Gemm {
        private final Gemm inner = new LoopGemm();

        @Override
        public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, float[] a, int offA, int lda,
                          float[] b, int offB, int ldb, float beta, float[] c, int offC, int ldc) {
            // Reads B as if it were not transposed, with the stored leading dimension: stays inside the array.
            inner.sgemm(transA, false, m, Math.min(n, ldb), Math.min(k, b.length / Math.max(1, ldb)), alpha, a, offA, lda, b, offB, ldb,
                    beta, c, offC, ldc);
        }

        @Override
        public String description() {
            return "wrong";
        }
    }

    /** Runs a product over whole arrays, unsplit. */
    private static void runWhole(Gemm g, KernelChooser.Shape s, float[] a, float[] b, float[] c) {
        g.sgemm(s.transA(), s.transB(), s.m(), s.n(), s.k(), 1f, a, 0, s.transA() ? s.m() : s.k(), b, 0,
                s.transB() ? s.k() : s.n(), 0f, c, 0, s.n());
    }

    /**
     * A clock under which each product of a kernel takes a fixed time, and that counts the
     * products it timed; the tests' times are at least a round ({@link KernelChooser#MIN_ROUND_NS}),
     * so each round is one product.
     */
    private static KernelChooser.Clock fixed(Map<String, Long> nsByDescription, AtomicInteger timed) {
        return (kernel, body) -> {
            body.run();
            timed.incrementAndGet();
            return nsByDescription.get(kernel.description());
        };
    }

    private static Map<String, Gemm> kernels(Gemm... gs) {
        Map<String, Gemm> m = new LinkedHashMap<>();
        for (Gemm g : gs) {
            m.put(g instanceof VectorGemm ? "vector" : g.description(), g);
        }
        return m;
    }

    private static final String VECTOR = new VectorGemm().description();

    @Test
    void choose_keepsTheFasterKernel_andALaterChooserReadsItFromTheCacheWithoutTiming(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("k.txt");
        AtomicInteger timed = new AtomicInteger();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Map<String, Gemm> ks = kernels(new LoopGemm(), new VectorGemm());
        KernelChooser first = new KernelChooser(ks, file, "machine-1", KernelChooserTest::runWhole,
                fixed(Map.of("loop", 900_000_000L, VECTOR, 100_000_000L), timed), new PrintStream(log, true, StandardCharsets.UTF_8));
        assertSame(ks.get("vector"), first.choose(SHAPE));
        int rounds = timed.get();
        assertEquals(2 * KernelChooser.TIMED_ROUNDS, rounds, "both kernels timed, one product a round");
        assertSame(ks.get("vector"), first.choose(SHAPE), "decided once");
        assertEquals(rounds, timed.get(), "the second product of the shape is not timed");
        String text = Files.readString(file);
        assertTrue(text.startsWith("# key machine-1\n"), text);
        assertTrue(text.contains("40x30x70 NT threads=1 vector |"), text);

        // Another process (here: another chooser) with the other kernel now "faster" still follows the file.
        KernelChooser second = new KernelChooser(ks, file, "machine-1", KernelChooserTest::runWhole,
                fixed(Map.of("loop", 1_000_000L, VECTOR, 100_000_000L), timed), new PrintStream(log, true, StandardCharsets.UTF_8));
        assertSame(ks.get("vector"), second.choose(SHAPE));
        assertEquals(rounds, timed.get(), "read from the cache, not timed");
        assertTrue(second.choices().get(0).fromCache());
        assertEquals("", log.toString(StandardCharsets.UTF_8));

        // Under another machine key the file's choices do not count: timed again, and the file rewritten.
        KernelChooser other = new KernelChooser(ks, file, "machine-2", KernelChooserTest::runWhole,
                fixed(Map.of("loop", 1_000_000L, VECTOR, 100_000_000L), timed), new PrintStream(log, true, StandardCharsets.UTF_8));
        assertSame(ks.get("loop"), other.choose(SHAPE));
        assertTrue(Files.readString(file).startsWith("# key machine-2\n"));
    }

    @Test
    void choose_aKernelOnlySlightlyFaster_doesNotReplaceTheFirst(@TempDir Path dir) {
        Map<String, Gemm> ks = kernels(new LoopGemm(), new VectorGemm());
        KernelChooser c = new KernelChooser(ks, dir.resolve("k.txt"), "m", KernelChooserTest::runWhole,
                fixed(Map.of("loop", 11_000_000L, VECTOR, 10_000_000L), new AtomicInteger()), System.err);
        assertSame(ks.get("loop"), c.choose(SHAPE), "10% faster is within the margin");
        KernelChooser d = new KernelChooser(ks, null, "m", KernelChooserTest::runWhole,
                fixed(Map.of("loop", 13_000_000L, VECTOR, 10_000_000L), new AtomicInteger()), System.err);
        assertSame(ks.get("vector"), d.choose(SHAPE), "30% faster is not");
    }

    @Test
    void choose_aKernelThatDisagrees_isNeverUsedAndTheReasonIsLogged(@TempDir Path dir) {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Map<String, Gemm> ks = kernels(new VectorGemm(), new IgnoresTransposeGemm());
        KernelChooser c = new KernelChooser(ks, dir.resolve("k.txt"), "m", KernelChooserTest::runWhole,
                fixed(Map.of("wrong", 1_000_000L, VECTOR, 1000_000_000L), new AtomicInteger()), new PrintStream(log, true, StandardCharsets.UTF_8));
        assertSame(ks.get("vector"), c.choose(SHAPE), "the wrong kernel is 'faster' but disagrees");
        String said = log.toString(StandardCharsets.UTF_8);
        assertTrue(said.contains("sgemm kernel wrong is not used for 40x30x70 NT threads=1"), said);
        assertTrue(c.choices().get(0).gflops().get("wrong").isNaN());
        // On a plain product it agrees, and wins.
        KernelChooser.Shape nn = new KernelChooser.Shape(false, false, 40, 70, 30, 1);
        assertSame(ks.get("wrong"), c.choose(nn));
    }

    @Test
    void choose_corruptCacheFile_isIgnoredWithOneLineAndRewritten(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("k.txt");
        Files.writeString(file, "# key m\n40x30x70 NT threads=1 vector | vector twelve\n");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        AtomicInteger timed = new AtomicInteger();
        Map<String, Gemm> ks = kernels(new LoopGemm(), new VectorGemm());
        KernelChooser c = new KernelChooser(ks, file, "m", KernelChooserTest::runWhole,
                fixed(Map.of("loop", 1_000_000L, VECTOR, 100_000_000L), timed), new PrintStream(log, true, StandardCharsets.UTF_8));
        assertSame(ks.get("loop"), c.choose(SHAPE), "timed again, not the corrupt line's kernel");
        assertTrue(timed.get() > 0);
        String said = log.toString(StandardCharsets.UTF_8);
        assertTrue(said.contains("kernel cache " + file + " is corrupt (line 2: '40x30x70 NT threads=1 vector | vector twelve')"), said);
        assertTrue(said.contains("timing the kernels again"), said);
        List<String> lines = Files.readAllLines(file);
        assertEquals("# key m", lines.get(0));
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("40x30x70 NT threads=1 loop | loop ")), lines.toString());

        // Binary garbage and an unknown kernel id are corrupt too.
        for (String bad : List.of("\u0000\u0001garbage", "# key m\n40x30x70 NT threads=1 gpu | gpu 1.0\n")) {
            Files.writeString(file, bad);
            log.reset();
            KernelChooser again = new KernelChooser(ks, file, "m", KernelChooserTest::runWhole,
                    fixed(Map.of("loop", 100_000_000L, VECTOR, 1_000_000L), timed), new PrintStream(log, true, StandardCharsets.UTF_8));
            assertSame(ks.get("vector"), again.choose(SHAPE));
            assertTrue(log.toString(StandardCharsets.UTF_8).contains("is corrupt"), log.toString(StandardCharsets.UTF_8));
        }
    }

    @Test
    void choose_unwritableCache_choosesInMemoryAndSaysSoOnce(@TempDir Path dir) throws Exception {
        Path notADir = dir.resolve("file");
        Files.writeString(notADir, "x");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        Map<String, Gemm> ks = kernels(new LoopGemm(), new VectorGemm());
        KernelChooser c = new KernelChooser(ks, notADir.resolve("k.txt"), "m", KernelChooserTest::runWhole,
                fixed(Map.of("loop", 100_000_000L, VECTOR, 1_000_000L), new AtomicInteger()), new PrintStream(log, true, StandardCharsets.UTF_8));
        assertSame(ks.get("vector"), c.choose(SHAPE));
        assertSame(ks.get("vector"), c.choose(new KernelChooser.Shape(true, false, 20, 20, 20, 1)));
        String said = log.toString(StandardCharsets.UTF_8);
        assertEquals(1, said.lines().filter(l -> l.startsWith("kernel choices not cached")).count(), said);
    }

    @Test
    void scratchShape_capsEachMatrixKeepingK() {
        KernelChooser.Shape s = KernelChooser.scratchShape(new KernelChooser.Shape(true, false, 4096, 4096, 256, 2));
        assertEquals(256, s.k());
        assertTrue((long) s.m() * s.n() <= KernelChooser.MAX_SCRATCH_FLOATS && (long) s.k() * s.n() <= KernelChooser.MAX_SCRATCH_FLOATS, s.toString());
        assertEquals(4096, s.m(), "columns go first");
        KernelChooser.Shape small = new KernelChooser.Shape(false, false, 128, 512, 784, 1);
        assertEquals(small, KernelChooser.scratchShape(small));
    }

    @Test
    void disagreement_passesRoundingAndFailsAWrongElement() {
        float[] ref = {21.0f, -3.5f};
        assertEquals(null, KernelChooser.disagreement(ref, new float[]{21.0f + 2e-5f, -3.5f}, 4096));
        assertTrue(KernelChooser.disagreement(ref, new float[]{21.0f, 3.5f}, 4096).startsWith("element 1 is 3.5"));
        assertTrue(KernelChooser.disagreement(ref, new float[]{Float.NaN, -3.5f}, 10) != null, "NaN never agrees");
    }
}
