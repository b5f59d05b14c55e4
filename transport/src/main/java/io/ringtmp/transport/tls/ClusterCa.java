package io.ringtmp.transport.tls;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A cluster's certificate authority: an EC P-256 key and a self-signed CA certificate (path
 * length 0: it signs node certificates only), which issues one certificate per node. A node
 * certificate carries the node's host as a DNS or IP SAN and its id as the URI SAN
 * {@code ringtmp:node:<id>} ({@link NodeIds}), is valid for TLS server and client
 * authentication, and is signed with SHA256withECDSA. Certificates are built with BouncyCastle's
 * PKIX API on the JDK's own crypto provider; nothing is registered globally.
 *
 * <p>Threads: nothing is mutable but a (thread-safe) {@link SecureRandom}, so any thread may issue.
 *
 * <pre>{@code
 * ClusterCa ca = ClusterCa.create("ringtmp cluster CA", now, now.plus(Duration.ofDays(3650)));
 * ca.write(dir.resolve("ca.crt"), dir.resolve("ca.key"));
 * ca.issue(0, "10.0.0.1", now, now.plus(Duration.ofDays(365))).write(dir.resolve("node-0.crt"), dir.resolve("node-0.key"));
 * }</pre>
 */
public final class ClusterCa {
    private static final Pattern IPV4 = Pattern.compile("^\\d{1,3}(\\.\\d{1,3}){3}$");
    private static final String SIGNATURE = "SHA256withECDSA";

    private final X509Certificate certificate;
    private final PrivateKey key;
    private final SecureRandom random = new SecureRandom();

    private ClusterCa(X509Certificate certificate, PrivateKey key) {
        this.certificate = certificate;
        this.key = key;
    }

    /** A new CA named {@code name} (its CN), valid from {@code notBefore} to {@code notAfter}. */
    public static ClusterCa create(String name, Instant notBefore, Instant notAfter) {
        Objects.requireNonNull(name, "name");
        checkValidity(notBefore, notAfter);
        SecureRandom random = new SecureRandom();
        KeyPair kp = newKeyPair(random);
        X500Name subject = cn(name);
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(random), Date.from(notBefore),
                    Date.from(notAfter), subject, kp.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(kp.getPublic()));
            return new ClusterCa(sign(b, kp.getPrivate()), kp.getPrivate());
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot build a CA certificate: " + e.getMessage(), e);
        }
    }

    /**
     * An existing CA from its certificate and key files (to issue more node certificates under
     * it). Refuses a certificate that is not a CA and a key that is not the certificate's.
     */
    public static ClusterCa load(Path certFile, Path keyFile) {
        X509Certificate cert = Pem.readCertificates(certFile).get(0);
        PrivateKey key = Pem.readPrivateKey(keyFile);
        if (cert.getBasicConstraints() < 0) {
            throw new CertificateFileException(certFile + ": '" + cert.getSubjectX500Principal().getName() + "' is not a CA certificate");
        }
        if (!TlsCredentials.keyMatches(key, cert.getPublicKey())) {
            throw new CertificateFileException(keyFile + ": is not the key of the CA certificate in " + certFile);
        }
        return new ClusterCa(cert, key);
    }

    public X509Certificate certificate() {
        return certificate;
    }

    /** Writes the CA certificate (readable by all) and its key (owner-only): keep the key off the nodes. */
    public void write(Path certFile, Path keyFile) throws IOException {
        Pem.writeCertificates(certFile, List.of(certificate));
        Pem.writePrivateKey(keyFile, key);
    }

    /**
     * A certificate for node {@code nodeId} listening on {@code host} (a DNS name or an IPv4/IPv6
     * literal), with a new key, valid from {@code notBefore} to {@code notAfter} (a window
     * wholly in the past gives an expired certificate, which tests use).
     */
    public NodeCertificate issue(int nodeId, String host, Instant notBefore, Instant notAfter) {
        Objects.requireNonNull(host, "host");
        checkValidity(notBefore, notAfter);
        String uri = NodeIds.uri(nodeId);
        KeyPair kp = newKeyPair(random);
        GeneralName hostName = host.contains(":") || IPV4.matcher(host).matches()
                ? new GeneralName(GeneralName.iPAddress, host) : new GeneralName(GeneralName.dNSName, host);
        try {
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(certificate, serial(random), Date.from(notBefore),
                    Date.from(notAfter), cn("ringtmp node " + nodeId), kp.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
                    .addExtension(Extension.extendedKeyUsage, false,
                            new ExtendedKeyUsage(new KeyPurposeId[]{KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}))
                    .addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[]{
                            hostName, new GeneralName(GeneralName.uniformResourceIdentifier, uri)}))
                    .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(kp.getPublic()))
                    .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(certificate));
            return new NodeCertificate(nodeId, sign(b, key), kp.getPrivate());
        } catch (GeneralSecurityException | CertIOException e) {
            throw new IllegalStateException("cannot build the certificate of node " + nodeId + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("node " + nodeId + ": host '" + host + "' cannot go into a certificate: " + e.getMessage(), e);
        }
    }

    private static void checkValidity(Instant notBefore, Instant notAfter) {
        Objects.requireNonNull(notBefore, "notBefore");
        Objects.requireNonNull(notAfter, "notAfter");
        if (!notAfter.isAfter(notBefore)) {
            throw new IllegalArgumentException("notAfter (" + notAfter + ") must be after notBefore (" + notBefore + ")");
        }
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey signer) throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder(SIGNATURE).build(signer)));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException(e.getMessage(), e);
        }
    }

    private static KeyPair newKeyPair(SecureRandom random) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), random);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK cannot make EC P-256 keys: " + e.getMessage(), e);
        }
    }

    private static X500Name cn(String name) {
        return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, name).build();
    }

    private static BigInteger serial(SecureRandom random) {
        return new BigInteger(127, random).add(BigInteger.ONE);
    }
}
