package io.ringtmp.transport.tls;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.OptionalInt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClusterCaTest {
    private static final Instant NOW = Instant.now();
    private static final ClusterCa CA = ClusterCa.create("unit CA", NOW, NOW.plus(Duration.ofDays(10)));

    private static NodeCertificate issue(ClusterCa ca, int id, String host) {
        return ca.issue(id, host, NOW, NOW.plus(Duration.ofDays(1)));
    }

    @Test
    void issue_carriesIdAndHostAsSans_andIsSignedByTheCa() throws Exception {
        X509Certificate c = issue(CA, 3, "10.0.0.7").certificate();
        c.verify(CA.certificate().getPublicKey());
        assertEquals(OptionalInt.of(3), NodeIds.of(c));
        assertEquals("CN=ringtmp node 3", c.getSubjectX500Principal().getName());
        assertEquals("CN=unit CA", c.getIssuerX500Principal().getName());
        assertEquals(List.of(List.of(7, "10.0.0.7"), List.of(6, "ringtmp:node:3")), List.copyOf(c.getSubjectAlternativeNames()));
        assertTrue(c.getExtendedKeyUsage().containsAll(List.of("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2")), "server and client auth");
        assertEquals(-1, c.getBasicConstraints(), "not a CA");
        assertEquals(0, CA.certificate().getBasicConstraints(), "a CA that signs node certificates only");
        X509Certificate named = issue(CA, 0, "node-0.ringtmp.internal").certificate();
        assertEquals(List.of(2, "node-0.ringtmp.internal"), named.getSubjectAlternativeNames().iterator().next(), "a DNS SAN");
        X509Certificate v6 = issue(CA, 1, "fd00::1").certificate();
        assertEquals(7, v6.getSubjectAlternativeNames().iterator().next().get(0), "an IP SAN");
    }

    @Test
    void files_roundTrip_keysOwnerOnly(@TempDir Path dir) throws Exception {
        Path certs = dir.resolve("certs");
        Pem.createPrivateDirectory(certs);
        CA.write(certs.resolve("ca.crt"), certs.resolve("ca.key"));
        NodeCertificate n = issue(CA, 2, "127.0.0.1");
        n.write(certs.resolve("node-2.crt"), certs.resolve("node-2.key"));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(certs)));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(certs.resolve("node-2.key"))));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(certs.resolve("ca.key"))));
        assertTrue(Files.readString(certs.resolve("node-2.key")).startsWith("-----BEGIN PRIVATE KEY-----"));

        TlsCredentials c = TlsCredentials.load(certs.resolve("ca.crt"), certs.resolve("node-2.crt"), certs.resolve("node-2.key"));
        assertEquals(2, c.nodeId());
        assertEquals(n.certificate(), c.certificate());
        assertEquals(List.of(CA.certificate()), c.trustedCas());
        ClusterCa again = ClusterCa.load(certs.resolve("ca.crt"), certs.resolve("ca.key"));
        issue(again, 4, "127.0.0.1").certificate().verify(CA.certificate().getPublicKey());
    }

    @Test
    void trustBundle_ofOldAndNewCa_acceptsCertificatesOfEither(@TempDir Path dir) throws Exception {
        ClusterCa next = ClusterCa.create("unit CA 2", NOW, NOW.plus(Duration.ofDays(10)));
        Pem.writeCertificates(dir.resolve("bundle.crt"), List.of(CA.certificate(), next.certificate()));
        issue(CA, 0, "127.0.0.1").write(dir.resolve("old.crt"), dir.resolve("old.key"));
        issue(next, 0, "127.0.0.1").write(dir.resolve("new.crt"), dir.resolve("new.key"));
        assertEquals(2, TlsCredentials.load(dir.resolve("bundle.crt"), dir.resolve("old.crt"), dir.resolve("old.key")).trustedCas().size());
        assertEquals(0, TlsCredentials.load(dir.resolve("bundle.crt"), dir.resolve("new.crt"), dir.resolve("new.key")).nodeId());
    }

    @Test
    void load_badFiles_refusedNamingTheFile(@TempDir Path dir) throws Exception {
        CA.write(dir.resolve("ca.crt"), dir.resolve("ca.key"));
        issue(CA, 1, "127.0.0.1").write(dir.resolve("n1.crt"), dir.resolve("n1.key"));
        issue(CA, 2, "127.0.0.1").write(dir.resolve("n2.crt"), dir.resolve("n2.key"));
        ClusterCa other = ClusterCa.create("other CA", NOW, NOW.plus(Duration.ofDays(1)));
        issue(other, 1, "127.0.0.1").write(dir.resolve("x.crt"), dir.resolve("x.key"));
        Files.writeString(dir.resolve("garbage.crt"), "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n");
        Files.writeString(dir.resolve("empty.key"), "");
        Path ca = dir.resolve("ca.crt");

        assertMessage("no certificate file at " + dir.resolve("missing.crt"),
                () -> TlsCredentials.load(ca, dir.resolve("missing.crt"), dir.resolve("n1.key")));
        assertMessage(dir.resolve("garbage.crt") + ": not a PEM certificate file",
                () -> TlsCredentials.load(ca, dir.resolve("garbage.crt"), dir.resolve("n1.key")));
        assertMessage(dir.resolve("empty.key") + ": holds no unencrypted private key",
                () -> TlsCredentials.load(ca, dir.resolve("n1.crt"), dir.resolve("empty.key")));
        assertMessage(dir.resolve("n2.key") + ": is not the key of the certificate in " + dir.resolve("n1.crt"),
                () -> TlsCredentials.load(ca, dir.resolve("n1.crt"), dir.resolve("n2.key")));
        assertMessage(dir.resolve("x.crt") + ": node 1 ('CN=ringtmp node 1') is issued by 'CN=other CA', not by a CA in " + ca,
                () -> TlsCredentials.load(ca, dir.resolve("x.crt"), dir.resolve("x.key")));
        assertMessage(dir.resolve("n1.crt") + ": 'CN=ringtmp node 1' is not a CA certificate",
                () -> TlsCredentials.load(dir.resolve("n1.crt"), dir.resolve("n1.crt"), dir.resolve("n1.key")));
        assertMessage(dir.resolve("n2.key") + ": is not the key of the CA certificate in " + ca,
                () -> ClusterCa.load(ca, dir.resolve("n2.key")));
    }

    @Test
    void checkValidAt_expiredOrNotYetValid_refusedWithTheDate() {
        NodeCertificate n = CA.issue(1, "127.0.0.1", NOW.minus(Duration.ofDays(3)), NOW.minus(Duration.ofDays(2)));
        TlsCredentials c = TlsCredentials.of(CA, n);
        assertMessage("the certificate of node 1 ('CN=ringtmp node 1') expired at ", () -> c.checkValidAt(NOW));
        assertMessage("is not valid before", () -> c.checkValidAt(NOW.minus(Duration.ofDays(4))));
        c.checkValidAt(NOW.minus(Duration.ofDays(2)).minusSeconds(60));
    }

    @Test
    void nodeIds_certificateWithoutAnId_hasNone() {
        assertEquals(OptionalInt.empty(), NodeIds.of(CA.certificate()));
        assertTrue(NodeIds.describe(CA.certificate()).contains("no ringtmp:node:<id> SAN"));
    }

    private static void assertMessage(String part, org.junit.jupiter.api.function.Executable e) {
        CertificateFileException x = assertThrows(CertificateFileException.class, e);
        assertTrue(x.getMessage().contains(part), "expected '" + part + "' in: " + x.getMessage());
    }
}
