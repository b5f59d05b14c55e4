package io.ringtmp.cli;

import io.ringtmp.node.ClusterCertificates;
import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.TlsSpec;
import io.ringtmp.transport.tls.ClusterCa;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;

/**
 * {@code ringtmp certs --spec cluster.json --out DIR}: a cluster CA and one certificate and key
 * per node of the spec, for mutual TLS (docs/security.md).
 */
@Command(name = "certs", mixinStandardHelpOptions = true,
        description = {"Make a cluster CA and one key and certificate per node of a spec, for mutual TLS between the nodes: "
                + "DIR/ca.crt and DIR/ca.key, and DIR/node-<id>.crt and DIR/node-<id>.key with the node's host (DNS or IP SAN) "
                + "and id (URI SAN ringtmp:node:<id>). DIR is made owner-only (0700), keys 0600.",
                "Then add the printed tls block to the spec, give every machine ca.crt and its own node's two files, and keep "
                        + "ca.key off the nodes. With --ca-cert/--ca-key the certificates are issued under an existing CA "
                        + "(re-issue, a node added); docs/security.md says how to rotate the CA."})
public final class CertsCommand implements Callable<Integer> {
    @Option(names = "--spec", required = true, description = "Cluster spec (JSON): its nodes' ids and hosts go into the certificates.")
    Path spec;

    @Option(names = "--out", required = true, description = "Directory to write to (made owner-only).")
    Path out;

    @Option(names = "--days", defaultValue = "365", description = "Days the node certificates are valid (default: ${DEFAULT-VALUE}; a new CA: 3650).")
    int days;

    @Option(names = "--ca-cert", description = "Issue under this existing CA certificate (with --ca-key) instead of making a new CA.")
    Path caCert;

    @Option(names = "--ca-key", description = "The existing CA's key (with --ca-cert).")
    Path caKey;

    @Option(names = "--force", description = "Replace a CA key already in DIR (the certificates it signed stop being trusted once ca.crt changes).")
    boolean force;

    @Override
    public Integer call() throws Exception {
        if ((caCert == null) != (caKey == null)) {
            throw new IllegalArgumentException("--ca-cert and --ca-key go together");
        }
        if (days < 1) {
            throw new IllegalArgumentException("--days must be >= 1, got " + days);
        }
        ClusterSpec s = ClusterSpec.read(spec);
        ClusterCa ca = caCert == null ? null : ClusterCa.load(caCert, caKey);
        if (ca == null && ClusterCertificates.holdsCa(out) && !force) {
            throw new IllegalArgumentException(out.resolve(TlsSpec.CA_KEY_FILE) + " exists: a new CA would replace it (--force), "
                    + "or issue under it with --ca-cert " + out.resolve(TlsSpec.CA_FILE) + " --ca-key " + out.resolve(TlsSpec.CA_KEY_FILE));
        }
        TlsSpec t = ClusterCertificates.issue(s, out, ca, Duration.ofDays(days), Instant.now());
        System.out.println((ca == null ? "new CA " + out.resolve(TlsSpec.CA_FILE) + " (key " + out.resolve(TlsSpec.CA_KEY_FILE)
                + ": keep it off the nodes)" : "issued under " + caCert) + "; " + s.size() + " node certificates, valid " + days + " days, in " + out);
        System.out.println("add to " + spec + ":");
        System.out.println("  \"tls\": {\"ca\": \"" + json(t.ca()) + "\", \"dir\": \"" + json(t.dir()) + "\"}");
        return 0;
    }

    private static String json(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
