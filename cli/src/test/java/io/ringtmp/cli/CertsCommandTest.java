package io.ringtmp.cli;

import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.TlsSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code ringtmp certs}: the files it writes for a spec, their modes, and what it refuses. */
class CertsCommandTest {
    private static String perms(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    @Test
    void certs_forASpec_writesOwnerOnlyFilesThatTheSpecsNodesAccept(@TempDir Path dir) throws Exception {
        Path spec = dir.resolve("cluster.json");
        ClusterSpec.local(3, 47100, ClusterSpec.Mode.LINKTEST, Map.of(), "certs-test-secret-0123456", 9).write(spec);
        Path out = dir.resolve("certs");
        assertEquals(0, Main.commandLine().execute("certs", "--spec", spec.toString(), "--out", out.toString(), "--days", "10"));
        assertEquals("rwx------", perms(out));
        for (String f : new String[]{"ca.key", "node-0.key", "node-1.key", "node-2.key"}) {
            assertEquals("rw-------", perms(out.resolve(f)), f);
        }
        TlsSpec t = TlsSpec.in(out);
        for (int id = 0; id < 3; id++) {
            assertEquals(id, t.credentials(id, Instant.now()).nodeId());
        }
        // A second run would replace the CA: refused, saying how to issue under it instead.
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        var cl = Main.commandLine();
        cl.setErr(new PrintWriter(err, true));
        assertEquals(1, cl.execute("certs", "--spec", spec.toString(), "--out", out.toString()));
        assertTrue(err.toString().contains("ca.key exists: a new CA would replace it (--force)"), err.toString());
        // Under the existing CA, into another directory: the CA's key stays where it is.
        Path more = dir.resolve("more");
        assertEquals(0, Main.commandLine().execute("certs", "--spec", spec.toString(), "--out", more.toString(),
                "--ca-cert", out.resolve("ca.crt").toString(), "--ca-key", out.resolve("ca.key").toString()));
        assertTrue(!Files.exists(more.resolve("ca.key")));
        assertEquals(2, new TlsSpec(out.resolve("ca.crt").toString(), more.toString()).credentials(2, Instant.now()).nodeId());
        assertNotEquals(Files.readString(out.resolve("node-2.crt")), Files.readString(more.resolve("node-2.crt")));
    }
}
