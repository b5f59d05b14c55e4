package io.ringtmp.transport.tls;

import java.io.IOException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

/**
 * A node's certificate, issued by a {@link ClusterCa}, and its private key. Immutable.
 *
 * @param nodeId      the id in the certificate's {@code ringtmp:node:<id>} SAN
 * @param certificate the certificate (the host as a DNS or IP SAN, the id as a URI SAN)
 * @param key         its private key; keep it on the node's machine only
 */
public record NodeCertificate(int nodeId, X509Certificate certificate, PrivateKey key) {
    public NodeCertificate {
        Objects.requireNonNull(certificate, "certificate");
        Objects.requireNonNull(key, "key");
    }

    /** Writes the certificate (readable by all) and the key (owner-only, 0600). */
    public void write(Path certFile, Path keyFile) throws IOException {
        Pem.writeCertificates(certFile, List.of(certificate));
        Pem.writePrivateKey(keyFile, key);
    }
}
