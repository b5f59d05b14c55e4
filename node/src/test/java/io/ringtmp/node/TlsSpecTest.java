package io.ringtmp.node;

import io.ringtmp.transport.tls.ClusterCa;
import io.ringtmp.transport.tls.TlsCredentials;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The spec's tls block: parsing, the files it names, and what {@link ClusterCertificates} writes for it. */
class TlsSpecTest {
    private static final String SECRET = "0123456789abcdef0123";
    private static final Instant NOW = Instant.now();

    private static String spec(String tls) {
        return "{\"runId\": 7, \"secret\": \"" + SECRET + "\", \"mode\": \"linktest\"" + tls
                + ", \"nodes\": [{\"id\":0,\"host\":\"127.0.0.1\",\"port\":7000},{\"id\":1,\"host\":\"node-1.lan\",\"port\":7000}]}";
    }

    private static void assertRejected(String json, String fragment) {
        SpecException e = assertThrows(SpecException.class, () -> ClusterSpec.parse(json, "cluster.json"));
        assertTrue(e.getMessage().startsWith("cluster.json: ") && e.getMessage().contains(fragment), e.getMessage());
    }

    @Test
    void tlsBlock_parsesAndRoundTrips_absentMeansPlaintext(@TempDir Path dir) throws Exception {
        ClusterSpec s = ClusterSpec.parse(spec(", \"tls\": {\"ca\": \"certs/ca.crt\", \"dir\": \"certs\"}"), "x");
        assertEquals(new TlsSpec("certs/ca.crt", "certs"), s.tls());
        assertEquals(Path.of("certs", "node-1.crt"), s.tls().certFile(1));
        assertEquals(Path.of("certs", "node-1.key"), s.tls().keyFile(1));
        s.write(dir.resolve("c.json"));
        assertEquals(s, ClusterSpec.read(dir.resolve("c.json")));
        assertNull(ClusterSpec.parse(spec(""), "x").tls());
    }

    @Test
    void malformedTlsBlock_rejectedNamingTheField() {
        assertRejected(spec(", \"tls\": {\"dir\": \"certs\"}"), "tls.ca: missing");
        assertRejected(spec(", \"tls\": {\"ca\": \"certs/ca.crt\"}"), "tls.dir: missing");
        assertRejected(spec(", \"tls\": {\"ca\": \"c\", \"dir\": \"d\", \"cert\": \"x\"}"), "unknown field 'tls.cert'");
    }

    @Test
    void issuedDirectory_ownerOnly_andEveryNodesCredentialsCheck(@TempDir Path tmp) throws Exception {
        ClusterSpec s = ClusterSpec.parse(spec(""), "x");
        Path dir = tmp.resolve("certs");
        TlsSpec t = ClusterCertificates.issue(s, dir, null, Duration.ofDays(2), NOW);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        for (String key : new String[]{"ca.key", "node-0.key", "node-1.key"}) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(key))), key);
        }
        TlsCredentials c1 = t.credentials(1, NOW);
        assertEquals(1, c1.nodeId());
        assertTrue(c1.certificate().getSubjectAlternativeNames().stream().anyMatch(san -> san.get(1).equals("node-1.lan")));
        assertEquals(0, t.credentials(0, NOW).nodeId());

        SpecException expired = assertThrows(SpecException.class, () -> t.credentials(0, NOW.plus(Duration.ofDays(3))));
        assertTrue(expired.getMessage().contains("expired at"), expired.getMessage());

        // Node 1's files where node 0's should be: refused, naming the file and both ids.
        Files.copy(dir.resolve("node-1.crt"), dir.resolve("node-0.crt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(dir.resolve("node-1.key"), dir.resolve("node-0.key"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        SpecException swapped = assertThrows(SpecException.class, () -> t.credentials(0, NOW));
        assertEquals("tls.dir: " + dir.resolve("node-0.crt") + " is the certificate of node 1, not of node 0", swapped.getMessage());

        Files.delete(dir.resolve("node-1.key"));
        SpecException missing = assertThrows(SpecException.class, () -> t.credentials(1, NOW));
        assertTrue(missing.getMessage().contains("node 1: no key file at " + dir.resolve("node-1.key")), missing.getMessage());
    }

    @Test
    void reissueUnderTheSameCa_keepsItsKey_andCertificatesOfBothCheck(@TempDir Path tmp) throws Exception {
        ClusterSpec s = ClusterSpec.parse(spec(""), "x");
        TlsSpec first = ClusterCertificates.issue(s, tmp.resolve("a"), null, Duration.ofDays(2), NOW);
        ClusterCa ca = ClusterCa.load(Path.of(first.ca()), tmp.resolve("a").resolve("ca.key"));
        TlsSpec second = ClusterCertificates.issue(s, tmp.resolve("b"), ca, Duration.ofDays(2), NOW);
        assertTrue(!ClusterCertificates.holdsCa(tmp.resolve("b")) && ClusterCertificates.holdsCa(tmp.resolve("a")));
        TlsSpec mixed = new TlsSpec(first.ca(), second.dir());
        assertEquals(1, mixed.credentials(1, NOW).nodeId());
    }

    @Test
    void localSpecWithTls_keepsEverythingElse() {
        ClusterSpec s = ClusterSpec.local(2, 47000, ClusterSpec.Mode.LINKTEST, Map.of(), SECRET, 1);
        ClusterSpec t = s.withTls(new TlsSpec("c/ca.crt", "c"));
        assertEquals(s.nodes(), t.nodes());
        assertEquals(s.secret(), t.secret());
        assertEquals("c", t.tls().dir());
    }
}
