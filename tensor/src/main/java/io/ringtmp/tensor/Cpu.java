package io.ringtmp.tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the CPU offers, read once from {@code /proc/cpuinfo} (false where that cannot be read). */
public final class Cpu {
    private static final boolean AVX512 = readFlag("avx512f");

    private Cpu() {
    }

    public static boolean hasAvx512() {
        return AVX512;
    }

    private static boolean readFlag(String flag) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("flags")) {
                    return (" " + line + " ").contains(" " + flag + " ");
                }
            }
        } catch (IOException | RuntimeException e) {
            return false;
        }
        return false;
    }
}
