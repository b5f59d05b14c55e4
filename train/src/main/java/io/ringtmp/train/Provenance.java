package io.ringtmp.train;

import io.ringtmp.tensor.Blas;

import java.net.InetAddress;
import java.time.Instant;

/**
 * Where and with what a result was made, stored beside every checkpoint and metrics file.
 *
 * @param ringtmpVersion project version
 * @param commit         source commit ({@code RINGTMP_COMMIT}, set by the launcher), or "unknown"
 * @param java           Java runtime version
 * @param blas           the BLAS description ({@link Blas#describe()})
 * @param host           host name
 * @param os             OS name and architecture
 * @param cores          available processors
 * @param createdAt      ISO-8601 time
 */
public record Provenance(String ringtmpVersion, String commit, String java, String blas, String host, String os,
                         int cores, String createdAt) {
    public static final String VERSION = "0.1.0";

    public static Provenance current() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            host = "unknown";
        }
        String commit = System.getenv("RINGTMP_COMMIT");
        return new Provenance(VERSION, commit == null || commit.isBlank() ? "unknown" : commit,
                System.getProperty("java.version"), Blas.describe(), host,
                System.getProperty("os.name") + " " + System.getProperty("os.arch"),
                Runtime.getRuntime().availableProcessors(), Instant.now().toString());
    }
}
