package io.ringtmp.transport.tls;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * What one node needs for mutual TLS: the CA certificates it trusts (one, or during a rotation
 * the old and the new), its own certificate and its private key. Immutable; any thread.
 *
 * @param trustedCas  peers' certificates must chain to one of these
 * @param certificate this node's certificate, carrying its id ({@link NodeIds})
 * @param key         the certificate's private key
 */
public record TlsCredentials(List<X509Certificate> trustedCas, X509Certificate certificate, PrivateKey key) {
    public TlsCredentials {
        trustedCas = List.copyOf(trustedCas);
        Objects.requireNonNull(certificate, "certificate");
        Objects.requireNonNull(key, "key");
        if (trustedCas.isEmpty()) {
            throw new IllegalArgumentException("trustedCas must hold at least one CA certificate");
        }
    }

    /** Credentials from a node certificate issued by {@code ca}, trusting {@code ca} alone. */
    public static TlsCredentials of(ClusterCa ca, NodeCertificate node) {
        return new TlsCredentials(List.of(ca.certificate()), node.certificate(), node.key());
    }

    /**
     * Reads and checks a node's files: {@code caFile} holds one or more CA certificates,
     * {@code certFile} a certificate with a node id that one of them signed, {@code keyFile}
     * that certificate's key. Each problem is a {@link CertificateFileException} naming the file.
     * Validity dates are not checked here ({@link #checkValidAt}).
     */
    public static TlsCredentials load(Path caFile, Path certFile, Path keyFile) {
        List<X509Certificate> cas = Pem.readCertificates(caFile);
        for (X509Certificate ca : cas) {
            if (ca.getBasicConstraints() < 0) {
                throw new CertificateFileException(caFile + ": '" + ca.getSubjectX500Principal().getName() + "' is not a CA certificate");
            }
        }
        X509Certificate cert = Pem.readCertificates(certFile).get(0);
        if (NodeIds.of(cert).isEmpty()) {
            throw new CertificateFileException(certFile + ": " + NodeIds.describe(cert) + " carries no node id; issue it with 'ringtmp certs'");
        }
        PrivateKey key = Pem.readPrivateKey(keyFile);
        if (!keyMatches(key, cert.getPublicKey())) {
            throw new CertificateFileException(keyFile + ": is not the key of the certificate in " + certFile);
        }
        if (issuer(cert, cas) == null) {
            throw new CertificateFileException(certFile + ": " + NodeIds.describe(cert) + " is issued by '"
                    + cert.getIssuerX500Principal().getName() + "', not by a CA in " + caFile + " (" + subjects(cas) + ")");
        }
        return new TlsCredentials(cas, cert, key);
    }

    /** The node id the certificate carries. */
    public int nodeId() {
        OptionalInt id = NodeIds.of(certificate);
        if (id.isEmpty()) {
            throw new IllegalStateException(NodeIds.describe(certificate) + " carries no node id");
        }
        return id.getAsInt();
    }

    /** Throws {@link CertificateFileException} when the certificate is expired or not yet valid at {@code now}. */
    public void checkValidAt(Instant now) {
        try {
            certificate.checkValidity(Date.from(now));
        } catch (CertificateExpiredException e) {
            throw new CertificateFileException("the certificate of " + NodeIds.describe(certificate) + " expired at "
                    + certificate.getNotAfter().toInstant() + "; issue a new one with 'ringtmp certs'");
        } catch (CertificateNotYetValidException e) {
            throw new CertificateFileException("the certificate of " + NodeIds.describe(certificate) + " is not valid before "
                    + certificate.getNotBefore().toInstant() + " (check this machine's clock)");
        }
    }

    /** The CA of {@code cas} whose key signed {@code cert}, or null. */
    static X509Certificate issuer(X509Certificate cert, List<X509Certificate> cas) {
        for (X509Certificate ca : cas) {
            if (!ca.getSubjectX500Principal().equals(cert.getIssuerX500Principal())) {
                continue;
            }
            try {
                cert.verify(ca.getPublicKey());
                return ca;
            } catch (GeneralSecurityException e) {
                // Same name, another key: not this CA.
            }
        }
        return null;
    }

    static String subjects(List<X509Certificate> cas) {
        return String.join(", ", cas.stream().map(c -> "'" + c.getSubjectX500Principal().getName() + "'").toList());
    }

    /** Whether {@code key} is the private half of {@code pub}: a signature with one verifies with the other. */
    static boolean keyMatches(PrivateKey key, PublicKey pub) {
        String alg = switch (key.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "Ed25519", "EdDSA" -> "Ed25519";
            default -> null;
        };
        if (alg == null || !key.getAlgorithm().equals(pub.getAlgorithm()) && !alg.equals("Ed25519")) {
            return false;
        }
        try {
            byte[] probe = "ringtmp key check".getBytes(StandardCharsets.US_ASCII);
            Signature s = Signature.getInstance(alg);
            s.initSign(key);
            s.update(probe);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(alg);
            v.initVerify(pub);
            v.update(probe);
            return v.verify(sig);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
