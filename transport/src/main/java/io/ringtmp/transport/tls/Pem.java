package io.ringtmp.transport.tls;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/**
 * PEM files of certificates and keys. Certificates are written readable by all (they are
 * public), keys owner-only (0600) and atomically (a temporary file moved into place, so a key is
 * never readable by others, not even while it is written); keys are PKCS#8 ({@code BEGIN PRIVATE
 * KEY}). Readers accept what OpenSSL writes too (PKCS#8 or {@code BEGIN EC PRIVATE KEY}) and
 * throw {@link CertificateFileException} naming the file. Stateless; any thread.
 */
public final class Pem {
    private Pem() {
    }

    /** Every certificate in {@code file} (a bundle holds several), at least one. */
    public static List<X509Certificate> readCertificates(Path file) {
        byte[] bytes = read(file, "certificate");
        List<X509Certificate> out = new ArrayList<>();
        try {
            for (var c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(bytes))) {
                out.add((X509Certificate) c);
            }
        } catch (CertificateException e) {
            throw new CertificateFileException(file + ": not a PEM certificate file (" + e.getMessage() + ")", e);
        }
        if (out.isEmpty()) {
            throw new CertificateFileException(file + ": holds no certificate (expected '-----BEGIN CERTIFICATE-----')");
        }
        return List.copyOf(out);
    }

    /** The private key in {@code file}: PKCS#8 or an OpenSSL EC/RSA key, unencrypted. */
    public static PrivateKey readPrivateKey(Path file) {
        String text = new String(read(file, "key"), StandardCharsets.US_ASCII);
        Object o;
        try (PEMParser p = new PEMParser(new StringReader(text))) {
            o = p.readObject();
        } catch (IOException | RuntimeException e) {
            throw new CertificateFileException(file + ": not a PEM private key (" + e.getMessage() + ")", e);
        }
        try {
            JcaPEMKeyConverter conv = new JcaPEMKeyConverter();
            if (o instanceof PrivateKeyInfo info) {
                return conv.getPrivateKey(info);
            }
            if (o instanceof PEMKeyPair pair) {
                return conv.getKeyPair(pair).getPrivate();
            }
        } catch (IOException e) {
            throw new CertificateFileException(file + ": unreadable private key (" + e.getMessage() + ")", e);
        }
        throw new CertificateFileException(file + ": holds no unencrypted private key (expected '-----BEGIN PRIVATE KEY-----'"
                + (o == null ? "" : ", found " + o.getClass().getSimpleName()) + ")");
    }

    /** Writes certificates (public) to {@code file}, replacing it. */
    public static void writeCertificates(Path file, List<X509Certificate> certs) throws IOException {
        Files.writeString(file, encode(certs.toArray()), StandardCharsets.US_ASCII);
    }

    /** Writes {@code key} as PKCS#8 PEM to {@code file}, owner-only (0600), replacing it atomically. */
    public static void writePrivateKey(Path file, PrivateKey key) throws IOException {
        String pem = encode(new JcaPKCS8Generator(key, null));
        Path dir = file.toAbsolutePath().getParent();
        Path tmp;
        try {
            tmp = Files.createTempFile(dir, ".key-", ".tmp", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException e) {
            tmp = Files.createTempFile(dir, ".key-", ".tmp"); // Not POSIX: nothing finer to set.
        }
        try {
            Files.writeString(tmp, pem, StandardCharsets.US_ASCII);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Creates {@code dir} (and parents) and makes it owner-only (0700). */
    public static void createPrivateDirectory(Path dir) throws IOException {
        Files.createDirectories(dir);
        try {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        } catch (UnsupportedOperationException ignored) {
            // Not a POSIX file system: nothing to tighten.
        }
    }

    private static String encode(Object... objects) throws IOException {
        StringWriter w = new StringWriter();
        try (JcaPEMWriter pw = new JcaPEMWriter(w)) {
            for (Object o : objects) {
                if (o instanceof org.bouncycastle.util.io.pem.PemObjectGenerator g) {
                    pw.writeObject(g);
                } else {
                    pw.writeObject(o);
                }
            }
        }
        return w.toString();
    }

    private static byte[] read(Path file, String what) {
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new CertificateFileException("no " + what + " file at " + file);
        } catch (AccessDeniedException e) {
            throw new CertificateFileException(what + " file " + file + " is not readable by this user");
        } catch (FileSystemException e) {
            throw new CertificateFileException("cannot read " + what + " file " + file + ": " + e.getReason(), e);
        } catch (IOException e) {
            throw new CertificateFileException("cannot read " + what + " file " + file + ": " + e.getMessage(), e);
        }
    }
}
