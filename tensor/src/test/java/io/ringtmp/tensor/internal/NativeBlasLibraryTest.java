package io.ringtmp.tensor.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeBlasLibraryTest {
    @TempDir
    Path tmp;

    private Path dirWith(String name, String... libs) throws IOException {
        Path d = Files.createDirectories(tmp.resolve(name));
        for (String lib : libs) {
            Files.writeString(d.resolve(lib), "");
        }
        return d;
    }

    @Test
    void locate_prefersOpenBlasByName_overAnEarlierGenericLibrary() throws IOException {
        Path reference = dirWith("first", "libblas.so.3");
        Path openblas = dirWith("second", "libopenblas.so.0");
        assertEquals(Optional.of(openblas.resolve("libopenblas.so.0")), NativeBlasLibrary.locate(List.of(reference, openblas)));
    }

    @Test
    void locate_fallsBackToTheGenericLibrary_thenToNothing() throws IOException {
        Path empty = dirWith("empty");
        Path reference = dirWith("ref", "libblas.so.3");
        assertEquals(Optional.of(reference.resolve("libblas.so.3")), NativeBlasLibrary.locate(List.of(empty, reference)));
        assertEquals(Optional.empty(), NativeBlasLibrary.locate(List.of(empty)));
    }

    @Test
    void locate_takesTheFirstDirectoryInLoaderOrder() throws IOException {
        Path a = dirWith("a", "libopenblas.so.0");
        Path b = dirWith("b", "libopenblas.so.0");
        assertEquals(Optional.of(a.resolve("libopenblas.so.0")), NativeBlasLibrary.locate(List.of(a, b)));
    }

    @Test
    void ofFile_namesDebiansLibraries() {
        NativeBlasLibrary p = NativeBlasLibrary.ofFile(Path.of("/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so"));
        assertEquals(NativeBlasLibrary.Kind.OPENBLAS, p.kind());
        assertEquals("OpenBLAS 0.3.21 pthread", p.name());
        assertEquals("OpenBLAS 0.3.21 openmp",
                NativeBlasLibrary.ofFile(Path.of("/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblaso-r0.3.21.so")).name());
        assertEquals("OpenBLAS 0.3.21 serial",
                NativeBlasLibrary.ofFile(Path.of("/usr/lib/x86_64-linux-gnu/openblas-serial/libopenblas-r0.3.21.so")).name());
        NativeBlasLibrary r = NativeBlasLibrary.ofFile(Path.of("/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0"));
        assertEquals(NativeBlasLibrary.Kind.REFERENCE, r.kind());
        assertEquals("reference BLAS 3.11.0", r.name());
        assertEquals("", r.kernels(), "only OpenBLAS has kernel sets to name");
        NativeBlasLibrary o = NativeBlasLibrary.ofFile(Path.of("/opt/intel/lib/libmkl_rt.so.2"));
        assertEquals(NativeBlasLibrary.Kind.OTHER, o.kind());
        assertTrue(o.name().contains("libmkl_rt.so.2"), o.name());
    }

    @Test
    void loaderDirectories_includeTheDefaultOnes() {
        List<Path> dirs = NativeBlasLibrary.loaderDirectories();
        assertTrue(dirs.contains(Path.of("/usr/lib")) && dirs.contains(Path.of("/lib")), dirs.toString());
    }
}
