package io.ringtmp.node;

import com.fasterxml.jackson.annotation.JsonIgnore;
import io.ringtmp.transport.tls.CertificateFileException;
import io.ringtmp.transport.tls.TlsCredentials;

import java.nio.file.Path;
import java.time.Instant;

/**
 * A cluster spec's {@code tls} block: where the CA certificate (or a bundle of CAs) is, and the
 * directory with each node's {@code node-<id>.crt} and {@code node-<id>.key}, as
 * {@code ringtmp certs} writes them. Relative paths are taken from the node's working directory
 * (like {@code metricsDir}). Each machine needs the CA file and its own node's two files only.
 *
 * @param ca  PEM file of the CA certificate(s) peers must chain to
 * @param dir directory of the node certificates and keys
 */
public record TlsSpec(String ca, String dir) {
    public TlsSpec {
        if (ca == null || ca.isBlank()) {
            throw new SpecException("tls.ca: missing (the PEM file of the cluster CA certificate, e.g. certs/ca.crt)");
        }
        if (dir == null || dir.isBlank()) {
            throw new SpecException("tls.dir: missing (the directory of node-<id>.crt and node-<id>.key, e.g. certs)");
        }
    }

    /** The layout {@code ringtmp certs --out dir} writes: {@code dir/ca.crt}, {@code dir/node-<id>.crt|key}. */
    public static TlsSpec in(Path dir) {
        return new TlsSpec(dir.resolve(CA_FILE).toString(), dir.toString());
    }

    /** Name of the CA certificate in a certs directory. */
    public static final String CA_FILE = "ca.crt";
    /** Name of the CA key in a certs directory (needed to issue more, not by the nodes). */
    public static final String CA_KEY_FILE = "ca.key";

    public static String certName(int id) {
        return "node-" + id + ".crt";
    }

    public static String keyName(int id) {
        return "node-" + id + ".key";
    }

    @JsonIgnore
    public Path certFile(int id) {
        return Path.of(dir).resolve(certName(id));
    }

    @JsonIgnore
    public Path keyFile(int id) {
        return Path.of(dir).resolve(keyName(id));
    }

    /**
     * Node {@code id}'s credentials, checked: the files exist and parse, the key is the
     * certificate's, one of the CAs signed it, it carries node id {@code id} and is valid at
     * {@code now}. Each failure is a {@link SpecException} naming the file and what is wrong.
     */
    public TlsCredentials credentials(int id, Instant now) {
        TlsCredentials c;
        try {
            c = TlsCredentials.load(Path.of(ca), certFile(id), keyFile(id));
            c.checkValidAt(now);
        } catch (CertificateFileException e) {
            throw new SpecException("tls (ca " + ca + ", dir " + dir + "), node " + id + ": " + e.getMessage(), e);
        }
        if (c.nodeId() != id) {
            throw new SpecException("tls.dir: " + certFile(id) + " is the certificate of node " + c.nodeId() + ", not of node " + id);
        }
        return c;
    }
}
