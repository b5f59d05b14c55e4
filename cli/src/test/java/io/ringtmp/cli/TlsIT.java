package io.ringtmp.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.ringtmp.data.DataSources;
import io.ringtmp.node.ClusterCertificates;
import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.NodeSpec;
import io.ringtmp.node.TrainingOptions;
import io.ringtmp.ps.ParameterServer;
import io.ringtmp.train.Trainer;
import io.ringtmp.transport.MessageHandler;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.NettyTransport;
import io.ringtmp.transport.Transport;
import io.ringtmp.transport.TransportConfig;
import io.ringtmp.transport.TransportException;
import io.ringtmp.transport.tls.ClusterCa;
import io.ringtmp.transport.tls.NodeCertificate;
import io.ringtmp.transport.tls.Pem;
import io.ringtmp.transport.tls.TlsConfig;
import io.ringtmp.transport.tls.TlsCredentials;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mutual TLS with real node processes on loopback: strangers (a certificate of another CA, node
 * 1's certificate claiming node 2, an expired certificate, a plaintext client) are refused by a
 * running node, each with a line saying why, and the node goes on to complete its run; the ring
 * and the parameter server under TLS compute the single-node trainer's weights.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class TlsIT {
    private static final Instant NOW = Instant.now();

    /** {@code s} with certificates issued into {@code dir/certs} and its tls block pointing there. */
    private static ClusterSpec withCertificates(ClusterSpec s, Path dir) throws Exception {
        return s.withTls(ClusterCertificates.issue(s, dir.resolve("certs"), null, Duration.ofDays(1), NOW));
    }

    /** A client transport in this JVM: node {@code claims}, with {@code tls} (null: plaintext) and the cluster's secret. */
    private static Transport client(int claims, ClusterSpec s, TlsConfig tls) {
        TransportConfig c = TransportConfig.of(claims, "127.0.0.1", 0, s.runId(), s.secret().getBytes(StandardCharsets.UTF_8), 1 << 20)
                .withTls(tls);
        return NettyTransport.start(c, new MessageHandler() {
            @Override
            public void onMessage(Message m) {
            }
        });
    }

    private static String refusal(ClusterSpec s, int claims, TlsConfig tls) {
        NodeSpec target = s.node(0);
        try (Transport t = client(claims, s, tls)) {
            TransportException e = assertThrows(TransportException.class, () -> t.connect(0, target.host(), target.port()));
            assertFalse(e.transientFailure(), "a refused credential is permanent: " + e.getMessage());
            return e.getMessage();
        }
    }

    private static void awaitLog(Path dir, int node, String fragment) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!NodeProcesses.log(dir, node).contains(fragment)) {
            assertTrue(System.nanoTime() < deadline, "node " + node + " did not log '" + fragment + "':\n" + NodeProcesses.log(dir, node));
            Thread.sleep(50);
        }
    }

    @Test
    void strangers_areRefusedWithAReason_andTheNodeCompletesItsRun(@TempDir Path dir) throws Exception {
        ClusterSpec s = withCertificates(NodeProcesses.spec(ClusterSpec.Mode.LINKTEST, 3, dir,
                null, null, Map.of("sizes", "4KiB,1MiB", "seconds", "0.3", "pings", "10"), 200, 5000), dir);
        Path f = dir.resolve("cluster.json");
        s.write(f);
        Process first = NodeProcesses.start(f, 0, dir.resolve("out-0.log"));
        List<Process> others = new ArrayList<>();
        try {
            awaitLog(dir, 0, "listening on");
            assertTrue(NodeProcesses.log(dir, 0).contains("node 0 links: TLSv1.3 TLS_AES_128_GCM_SHA256, mutual, as node 0"),
                    NodeProcesses.log(dir, 0));
            Path certs = Path.of(s.tls().dir());
            List<java.security.cert.X509Certificate> ca = Pem.readCertificates(Path.of(s.tls().ca()));

            ClusterCa otherCa = ClusterCa.create("a strangers CA", NOW, NOW.plus(Duration.ofDays(1)));
            NodeCertificate foreign = otherCa.issue(1, "127.0.0.1", NOW, NOW.plus(Duration.ofDays(1)));
            String e1 = refusal(s, 1, TlsConfig.of(new TlsCredentials(ca, foreign.certificate(), foreign.key())));
            assertTrue(e1.contains("TLS handshake failed"), e1);
            awaitLog(dir, 0, "refused in the TLS handshake: the certificate of node 1 ('CN=ringtmp node 1') is issued by "
                    + "'CN=a strangers CA', not by this cluster's CA");

            TlsCredentials node1 = TlsCredentials.load(Path.of(s.tls().ca()), s.tls().certFile(1), s.tls().keyFile(1));
            String e2 = refusal(s, 2, TlsConfig.of(node1));
            assertTrue(e2.contains("refused the handshake"), e2);
            awaitLog(dir, 0, "claims to be node 2 but presents the certificate of node 1 ('CN=ringtmp node 1')");

            ClusterCa ours = ClusterCa.load(Path.of(s.tls().ca()), certs.resolve("ca.key"));
            NodeCertificate stale = ours.issue(1, "127.0.0.1", NOW.minus(Duration.ofDays(3)), NOW.minus(Duration.ofDays(2)));
            refusal(s, 1, TlsConfig.of(new TlsCredentials(ca, stale.certificate(), stale.key())));
            awaitLog(dir, 0, "refused in the TLS handshake: the certificate of node 1 ('CN=ringtmp node 1') expired at ");

            String e4 = refusal(s, 1, null);
            assertTrue(e4.contains("requires TLS: its spec has a tls block, this node's has none"), e4);
            awaitLog(dir, 0, "does not speak TLS (a node whose spec has no tls block?) and this node requires TLS");

            assertTrue(first.isAlive(), "node 0 is still up after four refusals");
            for (int i = 1; i < 3; i++) {
                others.add(NodeProcesses.start(f, i, dir.resolve("out-" + i + ".log")));
            }
            List<Process> all = new ArrayList<>(List.of(first));
            all.addAll(others);
            for (int i = 0; i < 3; i++) {
                assertTrue(all.get(i).waitFor(120, TimeUnit.SECONDS), "node " + i + " finished");
                assertEquals(0, all.get(i).exitValue(), NodeProcesses.logs(dir, 3));
            }
            List<JsonNode> rejected = NodeProcesses.events(dir, 0, "message-rejected");
            assertEquals(4, rejected.size(), "node 0 recorded each refusal: " + rejected);
            assertEquals(2, NodeProcesses.events(dir, 1, "linktest-throughput").size(), "node 1 received both sizes from node 0");
        } finally {
            first.destroyForcibly();
            others.forEach(Process::destroyForcibly);
        }
    }

    @Test
    void launch_tlsByDefault_noTlsForPlaintext(@TempDir Path dir) throws Exception {
        for (boolean tls : new boolean[]{true, false}) {
            Path runs = dir.resolve(tls ? "tls" : "plain");
            List<String> args = new ArrayList<>(List.of("launch", "--mode", "linktest", "--nodes", "2", "--sizes", "64KiB",
                    "--seconds", "0.3", "--pings", "5", "--runs-dir", runs.toString()));
            if (!tls) {
                args.add("--no-tls");
            }
            assertEquals(0, Main.commandLine().execute(args.toArray(String[]::new)));
            Path run;
            try (var l = Files.list(runs)) {
                run = l.findFirst().orElseThrow();
            }
            ClusterSpec spec = ClusterSpec.read(run.resolve("cluster.json"));
            assertEquals(tls, spec.tls() != null, "tls block");
            assertEquals(tls, Files.isDirectory(run.resolve("certs")));
            if (tls) {
                assertEquals("rwx------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(run.resolve("certs"))));
                assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(run.resolve("certs").resolve("node-1.key"))));
                assertTrue(Path.of(spec.tls().dir()).isAbsolute(), "nodes find the certificates from any working directory");
            }
        }
    }

    @Test
    void nodeWithAnotherNodesFiles_refusesToStartNamingTheFile(@TempDir Path dir) throws Exception {
        ClusterSpec s = withCertificates(NodeProcesses.spec(ClusterSpec.Mode.LINKTEST, 2, dir, null, null, Map.of(), 200, 5000), dir);
        Path certs = Path.of(s.tls().dir());
        Files.copy(certs.resolve("node-1.crt"), certs.resolve("node-0.crt"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Files.copy(certs.resolve("node-1.key"), certs.resolve("node-0.key"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Path f = dir.resolve("cluster.json");
        s.write(f);
        Process p = NodeProcesses.start(f, 0, dir.resolve("out-0.log"));
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(1, p.exitValue());
        assertTrue(NodeProcesses.log(dir, 0).contains("tls.dir: " + certs.resolve("node-0.crt") + " is the certificate of node 1, not of node 0"),
                NodeProcesses.log(dir, 0));
    }

    @Test
    void ring1f1b_threeNodesUnderTls_matchesTheSingleNodeTrainer(@TempDir Path dir) throws Exception {
        Path ckpt = dir.resolve("ckpt");
        ClusterSpec spec = withCertificates(RingIT.spec(3, dir, RingIT.MODEL, RingIT.DATA, RingIT.options("1f1b", ckpt, 20)), dir);
        List<Integer> codes = RingIT.run(spec, dir);
        assertEquals(Collections.nCopies(3, 0), codes, RingIT.logs(dir, 3));
        assertTrue(RingIT.logs(dir, 3).contains("links: TLSv1.3"), RingIT.logs(dir, 3));
        Trainer reference = new Trainer(TrainingOptions.config(spec), DataSources.open(RingIT.DATA, dir, msg -> { }));
        reference.run();
        float worst = RingIT.maxDiff(reference.model().parameters(), RingIT.stageWeights(ckpt, 3, 20));
        assertTrue(worst <= 1e-5f, "ring under TLS: max abs weight difference " + worst);
    }

    @Test
    void psBsp_twoServersTwoWorkersUnderTls_equalsTheSingleNodeTrainer(@TempDir Path dir) throws Exception {
        ClusterSpec s = withCertificates(ParameterServerIT.spec(4, dir, ParameterServerIT.MODEL, ParameterServerIT.DATA,
                ParameterServerIT.options("2", "sgd", "500"), 200, 5000), dir);
        ParameterServerIT.awaitSuccess(ParameterServerIT.startAll(s, dir), dir, 120);
        assertTrue(NodeProcesses.log(dir, 3).contains("links: TLSv1.3"), NodeProcesses.log(dir, 3));
        float diff = ParameterServerIT.againstTrainer(s, dir.resolve("run").resolve(ParameterServer.MODEL_FILE));
        assertTrue(diff <= 1e-5f, "ps under TLS: max |w_ps - w_trainer| = " + diff);
    }
}
