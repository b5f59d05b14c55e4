package io.ringtmp.tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the CPU offers, read once from {@code /proc/cpuinfo} (false where that cannot be read). */
public final class Cpu {
    private static final boolean AVX512 = readFlag("avx512f");
    private static final String MODEL = readField("model name");
    private static final String FLAGS = readField("flags");

    private Cpu() {
    }

    public static boolean hasAvx512() {
        return AVX512;
    }

    /** The CPU's model name, e.g. {@code AMD EPYC 9B45}, or {@code unknown}. */
    public static String model() {
        return MODEL.isEmpty() ? "unknown" : MODEL;
    }

    /** A short digest of the CPU's feature flags (which kernels can run, and how fast): 16 hex digits. */
    public static String flagsDigest() {
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(FLAGS.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return java.util.HexFormat.of().formatHex(d, 0, 8);
        } catch (java.security.NoSuchAlgorithmException e) {
            return Integer.toHexString(FLAGS.hashCode());
        }
    }

    /** The value of the first {@code /proc/cpuinfo} line named {@code field}, or "". */
    private static String readField(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).strip().equals(field)) {
                    return line.substring(colon + 1).strip();
                }
            }
        } catch (IOException | RuntimeException e) {
            return "";
        }
        return "";
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
