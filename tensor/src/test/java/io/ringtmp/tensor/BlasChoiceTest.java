package io.ringtmp.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import io.ringtmp.tensor.internal.NativeBlasLibrary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The backend is chosen once per process, so each case runs a child JVM with its own flags and
 * reads what {@link Probe} prints.
 */
@Timeout(60)
class BlasChoiceTest {
    /** Prints the chosen backend and warning, or the cause of the start-up failure. */
    public static final class Probe {
        public static void main(String[] args) {
            try {
                System.out.println("backend=" + Blas.backend());
                System.out.println("warning=" + Blas.warning());
                System.out.println(Blas.describe());
            } catch (ExceptionInInitializerError e) {
                System.out.println("failed=" + e.getCause().getMessage());
            }
        }
    }

    private static String run(boolean vectorModule, String... props) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        if (vectorModule) {
            cmd.add("--add-modules=jdk.incubator.vector");
        }
        cmd.addAll(List.of(props));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Probe.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "child JVM did not exit");
        return out;
    }

    @Test
    void noNative_withVectorModule_choosesJavaVectorAndSaysNativeIsFaster() throws Exception {
        String out = run(true, "-Ddev.ludovic.netlib.blas.allowNative=false");
        assertTrue(out.contains("backend=JAVA_VECTOR"), out);
        assertTrue(out.contains("OpenBLAS"), out);
    }

    @Test
    void noNative_noVectorModule_fallsBackToNetlibWithWarning() throws Exception {
        String out = run(false, "-Ddev.ludovic.netlib.blas.allowNative=false");
        assertTrue(out.contains("backend=JAVA_NETLIB"), out);
        assertTrue(out.contains("jdk.incubator.vector") && out.contains("WARNING"), out);
    }

    @Test
    void forcedJava_withoutVectorModule_failsNamingTheModule() throws Exception {
        String out = run(false, "-Dringtmp.blas=java");
        assertTrue(out.contains("failed=") && out.contains("--add-modules=jdk.incubator.vector"), out);
    }

    @Test
    void perShape_withoutTheVectorModule_failsNamingWhatIsMissing() throws Exception {
        String out = run(false, "-Dringtmp.blas=per-shape");
        assertTrue(out.contains("failed=") && out.contains("jdk.incubator.vector"), out);
    }

    @Test
    void forcedNative_withoutNative_failsNamingTheLibrary() throws Exception {
        String out = run(true, "-Dringtmp.blas=native", "-Ddev.ludovic.netlib.blas.allowNative=false");
        assertTrue(out.contains("failed=") && out.contains("libopenblas0-pthread"), out);
    }

    @Test
    void forcedNetlibJava_and_unknownValue() throws Exception {
        String out = run(true, "-Dringtmp.blas=netlib-java");
        assertTrue(out.contains("backend=JAVA_NETLIB"), out);
        out = run(true, "-Dringtmp.blas=fast");
        assertEquals(true, out.contains("failed=") && out.contains("'fast'"), out);
    }

    /** Debian's reference BLAS (libblas3), which numpy, torch, R and Octave pull in; {@code ringtmp test} installs it. */
    private static final Path REFERENCE_BLAS = Path.of("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3");

    @Test
    void referenceBlas_isMeasuredFoundSlow_andTheJavaKernelIsUsedWithOneLineSayingWhatToInstall() throws Exception {
        assertTrue(Files.isReadable(REFERENCE_BLAS), REFERENCE_BLAS + " is missing: install libblas3 "
                + "(./ringtmp test does so as root) so that this test can load the slow reference BLAS");
        String out = run(true, "-Ddev.ludovic.netlib.blas.nativeLibPath=" + REFERENCE_BLAS);
        assertTrue(out.contains("backend=JAVA_VECTOR"), out);
        String line = out.lines().filter(l -> l.startsWith("BLAS: ")).findFirst().orElseThrow(() -> new AssertionError(out));
        assertTrue(line.contains("SLOW NATIVE BLAS: reference BLAS 3."), line);
        assertTrue(line.contains("libblas.so.3"), "names the file loaded: " + line);
        assertTrue(line.contains("apt-get install libopenblas0-pthread"), "says what to install: " + line);
    }

    private static boolean openBlasInstalled() {
        return NativeBlasLibrary.locate(NativeBlasLibrary.loaderDirectories())
                .filter(p -> p.getFileName().toString().startsWith("libopenblas")).isPresent();
    }

    @Test
    void openBlas_isFoundByItsOwnName_andUsed() throws Exception {
        assertTrue(openBlasInstalled(), "libopenblas.so.0 is missing: install libopenblas0-pthread "
                + "(./ringtmp test does so as root)");
        String out = run(true);
        assertTrue(out.contains("backend=NATIVE"), out);
        String line = out.lines().filter(l -> l.startsWith("BLAS: ")).findFirst().orElseThrow(() -> new AssertionError(out));
        assertTrue(line.matches("BLAS: OpenBLAS [0-9.]+.* kernels.*\\(/\\S*libopenblas\\S*\\.so, through netlib's JNI\\).*"), line);
    }

    @Test
    void perShape_choosesTheKernelPerShape_namingBothAndTheCacheFile(@TempDir Path dir) throws Exception {
        assertTrue(openBlasInstalled(), "libopenblas.so.0 is missing: install libopenblas0-pthread "
                + "(./ringtmp test does so as root)");
        Path cache = dir.resolve("kernels.txt");
        String out = run(true, "-Dringtmp.blas=per-shape", "-Dringtmp.kernelCache=" + cache);
        assertTrue(out.contains("backend=PER_SHAPE"), out);
        String line = out.lines().filter(l -> l.startsWith("BLAS: ")).findFirst().orElseThrow(() -> new AssertionError(out));
        assertTrue(line.matches("BLAS: per product shape the faster of OpenBLAS [0-9.]+.* kernels.*\\(/\\S*libopenblas\\S*\\.so, "
                + "through netlib's JNI\\) and Java Vector API kernel v\\d+ .*choices in " + java.util.regex.Pattern.quote(cache.toString()) + ".*"), line);
    }
}
