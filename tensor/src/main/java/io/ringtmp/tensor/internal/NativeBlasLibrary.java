package io.ringtmp.tensor.internal;

import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Array;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the native BLAS for netlib's JNI shim by name, and says which library file was loaded.
 *
 * <p>netlib's shim dlopens {@code libblas.so.3} by default, which is whatever Debian's
 * alternatives point at: the reference BLAS ({@code libblas3}, pulled in by numpy, torch, R or
 * Octave) is 20-50 times slower than OpenBLAS. So RingTMP asks for {@code libopenblas.so.0} by
 * its own name first ({@link #locate}), through netlib's {@value #PATH_PROPERTY} property, and
 * falls back to {@code libblas.so.3} only where no OpenBLAS is installed.
 *
 * <p>{@link #identify} names what was loaded from the file it resolves to (Debian's OpenBLAS
 * files carry their version and threading in their name, e.g. {@code libopenblasp-r0.3.21.so})
 * and, for OpenBLAS, the kernel set it runs ({@code openblas_get_corename}, called through the
 * JDK's foreign-function API where the JDK has it final and native access is enabled; otherwise
 * from {@code OPENBLAS_CORETYPE}).
 */
public final class NativeBlasLibrary {
    /** netlib's property naming the exact library file its shim dlopens. */
    public static final String PATH_PROPERTY = "dev.ludovic.netlib.blas.nativeLibPath";
    /** netlib's property naming the library by short name ({@code blas} means libblas.so.3). */
    public static final String NAME_PROPERTY = "dev.ludovic.netlib.blas.nativeLib";
    /** OpenBLAS by its own name; Debian's alternatives pick pthread, openmp or serial. */
    static final String OPENBLAS = "libopenblas.so.0";
    /** The generic BLAS name: OpenBLAS, BLIS, MKL or the slow reference, whatever is selected. */
    static final String GENERIC = "libblas.so.3";
    private static final Pattern OPENBLAS_FILE = Pattern.compile("libopenblas([po]?)[-_]?r?([0-9][0-9.]*[0-9])?(\\.so.*)?");
    private static final Pattern REFERENCE_FILE = Pattern.compile("libblas\\.so\\.(3\\.[0-9.]+)");

    /** What kind of library it is; decides whether RingTMP trusts it or measures it. */
    public enum Kind { OPENBLAS, REFERENCE, OTHER }

    private final Path file;
    private final Kind kind;
    private final String name;

    private NativeBlasLibrary(Path file, Kind kind, String name) {
        this.file = file;
        this.kind = kind;
        this.name = name;
    }

    /** The file that was loaded, all links resolved. */
    public Path file() {
        return file;
    }

    public Kind kind() {
        return kind;
    }

    /** E.g. {@code OpenBLAS 0.3.21 pthread} or {@code reference BLAS 3.11.0}. */
    public String name() {
        return name;
    }

    /**
     * The library to hand netlib: {@code libopenblas.so.0} in the first directory of
     * {@code dirs} that has it, else {@code libblas.so.3} likewise, else empty.
     */
    public static Optional<Path> locate(List<Path> dirs) {
        for (String lib : List.of(OPENBLAS, GENERIC)) {
            for (Path d : dirs) {
                Path p = d.resolve(lib);
                if (Files.isReadable(p)) {
                    return Optional.of(p);
                }
            }
        }
        return Optional.empty();
    }

    /**
     * The directories the dynamic loader searches, in its order: {@code LD_LIBRARY_PATH}, the
     * directories of {@code /etc/ld.so.conf} (and its includes), then the default ones.
     */
    public static List<Path> loaderDirectories() {
        Set<Path> dirs = new LinkedHashSet<>();
        String ld = System.getenv("LD_LIBRARY_PATH");
        if (ld != null) {
            for (String d : ld.split(":")) {
                if (!d.isBlank()) {
                    dirs.add(Path.of(d));
                }
            }
        }
        readLdConf(Path.of("/etc/ld.so.conf"), dirs, 0);
        for (String d : List.of("/lib64", "/usr/lib64", "/lib", "/usr/lib")) {
            dirs.add(Path.of(d));
        }
        return new ArrayList<>(dirs);
    }

    private static void readLdConf(Path conf, Set<Path> dirs, int depth) {
        if (depth > 4 || !Files.isReadable(conf)) {
            return;
        }
        try {
            for (String raw : Files.readAllLines(conf, StandardCharsets.UTF_8)) {
                String line = raw.replaceFirst("#.*", "").strip();
                if (line.startsWith("include ")) {
                    String glob = line.substring(8).strip();
                    Path pattern = conf.resolveSibling(glob);
                    Path dir = pattern.getParent();
                    if (dir == null || !Files.isDirectory(dir)) {
                        continue;
                    }
                    try (var files = Files.newDirectoryStream(dir, pattern.getFileName().toString())) {
                        List<Path> sorted = new ArrayList<>();
                        files.forEach(sorted::add);
                        sorted.sort(null);
                        for (Path f : sorted) {
                            readLdConf(f, dirs, depth + 1);
                        }
                    }
                } else if (line.startsWith("/")) {
                    dirs.add(Path.of(line));
                }
            }
        } catch (IOException | RuntimeException e) {
            // An unreadable loader configuration: the default directories still apply.
        }
    }

    /**
     * What this process has loaded as its BLAS: from {@code /proc/self/maps} where there is
     * one (an OpenBLAS file wins over a {@code libblas.so.3} wrapper that links to it), else
     * the file {@code requested} resolves to.
     */
    public static NativeBlasLibrary identify(Path requested) {
        List<Path> mapped = mappedBlasFiles();
        Path file = mapped.stream().filter(p -> OPENBLAS_FILE.matcher(p.getFileName().toString()).matches()).findFirst()
                .or(() -> mapped.stream().findFirst())
                .orElseGet(() -> resolve(requested));
        return ofFile(file);
    }

    /** Names a library from its resolved file name. */
    static NativeBlasLibrary ofFile(Path file) {
        String f = file.getFileName() == null ? file.toString() : file.getFileName().toString();
        Matcher m = OPENBLAS_FILE.matcher(f);
        if (m.matches()) {
            String threading = switch (m.group(1)) {
                case "p" -> " pthread";
                case "o" -> " openmp";
                default -> file.toString().contains("serial") ? " serial" : "";
            };
            return new NativeBlasLibrary(file, Kind.OPENBLAS, "OpenBLAS" + (m.group(2) == null ? "" : " " + m.group(2)) + threading);
        }
        Matcher r = REFERENCE_FILE.matcher(f);
        if (r.matches() && file.toString().contains("/blas/")) {
            return new NativeBlasLibrary(file, Kind.REFERENCE, "reference BLAS " + r.group(1));
        }
        return new NativeBlasLibrary(file, Kind.OTHER, "native BLAS " + f);
    }

    private static Path resolve(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return p;
        }
    }

    private static List<Path> mappedBlasFiles() {
        Path maps = Path.of("/proc/self/maps");
        List<Path> out = new ArrayList<>();
        if (!Files.isReadable(maps)) {
            return out;
        }
        try {
            for (String line : Files.readAllLines(maps, StandardCharsets.US_ASCII)) {
                int slash = line.indexOf('/');
                if (slash < 0) {
                    continue;
                }
                Path p = Path.of(line.substring(slash));
                String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
                if (n.contains("blas") && !n.contains("netlibblasjni") && !out.contains(p)) {
                    out.add(p);
                }
            }
        } catch (IOException | RuntimeException e) {
            // No maps: the requested file stands in.
        }
        return out;
    }

    /**
     * The OpenBLAS kernel set in use, e.g. {@code Haswell kernels} or {@code Cooperlake
     * kernels}, with how it was learnt when it was not asked of the library itself.
     */
    public String kernels() {
        if (kind != Kind.OPENBLAS) {
            return "";
        }
        Optional<String> core = coreName(file);
        if (core.isPresent()) {
            return core.get() + " kernels";
        }
        String env = System.getenv("OPENBLAS_CORETYPE");
        return env != null && !env.isBlank() ? env.strip() + " kernels (OPENBLAS_CORETYPE)" : "kernels chosen by OpenBLAS for this CPU";
    }

    /**
     * {@code openblas_get_corename()} through java.lang.foreign, looked up reflectively so that
     * this class compiles for Java 21 (where that API is a preview) and runs there too; empty
     * where the API or native access is missing, or the call fails.
     */
    private static Optional<String> coreName(Path lib) {
        try {
            Module self = NativeBlasLibrary.class.getModule();
            if (!(Boolean) Module.class.getMethod("isNativeAccessEnabled").invoke(self)) {
                return Optional.empty();
            }
            Class<?> arenaC = Class.forName("java.lang.foreign.Arena");
            Class<?> lookupC = Class.forName("java.lang.foreign.SymbolLookup");
            Class<?> linkerC = Class.forName("java.lang.foreign.Linker");
            Class<?> optionC = Class.forName("java.lang.foreign.Linker$Option");
            Class<?> descriptorC = Class.forName("java.lang.foreign.FunctionDescriptor");
            Class<?> layoutC = Class.forName("java.lang.foreign.MemoryLayout");
            Class<?> segmentC = Class.forName("java.lang.foreign.MemorySegment");
            Object arena = arenaC.getMethod("global").invoke(null);
            Object lookup = lookupC.getMethod("libraryLookup", Path.class, arenaC).invoke(null, lib, arena);
            Optional<?> symbol = (Optional<?>) lookupC.getMethod("find", String.class).invoke(lookup, "openblas_get_corename");
            if (symbol.isEmpty()) {
                return Optional.empty();
            }
            Object address = Class.forName("java.lang.foreign.ValueLayout").getField("ADDRESS").get(null);
            Object noLayouts = Array.newInstance(layoutC, 0);
            Object descriptor = descriptorC.getMethod("of", layoutC, noLayouts.getClass()).invoke(null, address, noLayouts);
            Object linker = linkerC.getMethod("nativeLinker").invoke(null);
            Object noOptions = Array.newInstance(optionC, 0);
            MethodHandle call = (MethodHandle) linkerC.getMethod("downcallHandle", segmentC, descriptorC, noOptions.getClass())
                    .invoke(linker, symbol.get(), descriptor, noOptions);
            Object result = call.invokeWithArguments();
            Object sized = segmentC.getMethod("reinterpret", long.class).invoke(result, 64L);
            String name = ((String) segmentC.getMethod("getString", long.class).invoke(sized, 0L)).strip();
            return name.isEmpty() ? Optional.empty() : Optional.of(name);
        } catch (Throwable e) {
            return Optional.empty();
        }
    }
}
