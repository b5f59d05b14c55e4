package io.ringtmp.node;

import io.ringtmp.transport.tls.ClusterCa;
import io.ringtmp.transport.tls.Pem;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Writes a cluster's certificates into one directory, in the layout a spec's {@link TlsSpec}
 * names: {@code ca.crt} and {@code ca.key} (written only for a new CA), and for each node of the
 * spec {@code node-<id>.crt} and {@code node-<id>.key}, the certificate naming the node's host and
 * id. The directory is owner-only (0700), every key 0600. What {@code ringtmp certs} and
 * {@code ringtmp launch} run. Stateless; any thread.
 */
public final class ClusterCertificates {
    /** A new CA's life: ten years. Node certificates are re-issued under it long before. */
    public static final Duration CA_VALIDITY = Duration.ofDays(3650);

    private ClusterCertificates() {
    }

    /**
     * Issues a certificate for every node of {@code spec} into {@code dir}, valid from a minute
     * before {@code now} (clocks differ a little) for {@code nodeValidity}. With {@code ca} null a
     * new CA named after the run is made and written too; otherwise {@code ca} signs and its files
     * stay where they are. Returns the {@link TlsSpec} to put into the spec.
     */
    public static TlsSpec issue(ClusterSpec spec, Path dir, ClusterCa ca, Duration nodeValidity, Instant now) throws IOException {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(dir, "dir");
        if (nodeValidity.isNegative() || nodeValidity.isZero()) {
            throw new IllegalArgumentException("nodeValidity must be positive, got " + nodeValidity);
        }
        Instant from = now.minus(Duration.ofMinutes(1));
        Pem.createPrivateDirectory(dir);
        ClusterCa signer = ca;
        if (signer == null) {
            signer = ClusterCa.create("ringtmp cluster CA " + Long.toHexString(spec.runId()), from, now.plus(CA_VALIDITY));
            signer.write(dir.resolve(TlsSpec.CA_FILE), dir.resolve(TlsSpec.CA_KEY_FILE));
        } else {
            Pem.writeCertificates(dir.resolve(TlsSpec.CA_FILE), List.of(signer.certificate()));
        }
        for (NodeSpec n : spec.nodes()) {
            signer.issue(n.id(), n.host(), from, now.plus(nodeValidity))
                    .write(dir.resolve(TlsSpec.certName(n.id())), dir.resolve(TlsSpec.keyName(n.id())));
        }
        return TlsSpec.in(dir);
    }

    /** Whether {@code dir} already holds a CA key (so a new CA would replace it). */
    public static boolean holdsCa(Path dir) {
        return Files.exists(dir.resolve(TlsSpec.CA_KEY_FILE));
    }
}
