package io.ringtmp.cli.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The peer's results.md (a copy of ../shared/peers/pytorch/results.md of 2026-11-24 in test resources). */
class PeerResultsTest {
    private static final Map<String, String> DDP_DEFAULTS = Map.of("--procs", "2", "--threads-per-proc", "1", "--iters", "300",
            "--epochs", "1", "--port", "29541");

    private static List<String> resource(String name) throws IOException {
        try (InputStream in = PeerResultsTest.class.getResourceAsStream("/peers/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
    }

    private static PeerResults real() throws IOException {
        return PeerResults.parse(Path.of("results.md"), resource("results.md"), Map.of("ddp_allreduce.py", DDP_DEFAULTS));
    }

    private static PeerCommand cmd(String script, String... args) {
        return PeerCommand.of(script, List.of(args), script.equals("ddp_allreduce.py") ? DDP_DEFAULTS : Map.of());
    }

    @Test
    void realFile_everyTableRowWithACommand_parsedWithItsRuns() throws IOException {
        PeerResults r = real();
        assertEquals(9, r.rows().size(), r.rows().toString());
        PeerResults.Row w1two = r.find(cmd("w1_throughput.py", "--threads", "2")).orElseThrow();
        assertEquals("W1, 2 cores, synthetic", w1two.label());
        assertEquals(List.of(32146.0, 32582.0, 32187.0, 21930.0), w1two.runs());
        assertEquals((32146 + 32187) / 2.0, w1two.median(), 1e-9);
        assertEquals(258, r.find(cmd("w2_throughput.py", "--threads", "1", "--iters", "10")).orElseThrow().median(), 1e-9,
                "run lengths do not matter");
        assertEquals(469, r.find(cmd("w2_throughput.py", "--threads", "2")).orElseThrow().median(), 1e-9);
        assertEquals(25805, r.find(cmd("w1_throughput.py", "--threads", "1", "--data", "/x/mnist")).orElseThrow().median(), 1e-9);
    }

    @Test
    void realFile_mnistRows_doNotStandForSyntheticRuns() throws IOException {
        PeerResults r = real();
        // The DDP row's runs say MNIST (its command names no --data): a synthetic run has no figure.
        assertTrue(r.find(cmd("ddp_allreduce.py", "--procs", "2", "--threads-per-proc", "1", "--iters", "300")).isEmpty());
        assertEquals(13404, r.find(cmd("ddp_allreduce.py", "--procs", "2", "--data", "D")).orElseThrow().median(), 1e-9,
                "a note in brackets is no run");
        assertEquals(List.of(16791.0, 18024.0), r.find(cmd("rpc_ps.py", "--workers", "2", "--consistency", "asp", "--data", "D"))
                .orElseThrow().runs(), "703 in the note is no run");
        assertTrue(r.find(cmd("w1_throughput.py", "--threads", "4")).isEmpty());
    }

    @Test
    void defaults_fillWhatAnInvocationLeavesOut() {
        List<String> table = List.of("# peer (2 cores, AVX-512)", "| what | command | samples/s |", "|---|---|---|",
                "| DDP | `ddp_allreduce.py --procs 4` | 5,110 · 5,300 · 4,900 |");
        PeerResults r = PeerResults.parse(Path.of("t.md"), table, Map.of("ddp_allreduce.py", DDP_DEFAULTS));
        assertEquals(5110, r.find(cmd("ddp_allreduce.py", "--procs", "4", "--threads-per-proc", "1", "--iters", "300")).orElseThrow().median());
        assertTrue(r.find(cmd("ddp_allreduce.py", "--procs", "4", "--threads-per-proc", "2")).isEmpty());
        assertTrue(r.find(cmd("ddp_allreduce.py", "--procs", "2")).isEmpty());
    }

    @Test
    void machineKind_fromTheHeading() throws IOException {
        PeerResults r = real();
        assertTrue(r.otherMachine(2, true).isEmpty());
        assertTrue(r.otherMachine(4, true).orElseThrow().contains("2 cores, this machine has 4"));
        assertTrue(r.otherMachine(2, false).orElseThrow().contains("AVX-512"));
    }

    @Test
    void scriptDefaults_fromItsArgparseLines(@TempDir Path dir) throws IOException {
        Path script = dir.resolve("ddp_allreduce.py");
        Files.write(script, resource("ddp_allreduce.py"));
        Map<String, String> d = PeerResults.scriptDefaults(script);
        assertEquals(Map.of("--procs", "2", "--threads-per-proc", "1", "--epochs", "1", "--iters", "300", "--port", "29541"), d);
        assertTrue(PeerResults.scriptDefaults(dir.resolve("missing.py")).isEmpty());
    }

    @Test
    void reference_peerDirWithResults_checksBySameCommand_andSaysWhyWhenItCannot(@TempDir Path dir) throws IOException {
        Files.write(dir.resolve("results.md"), resource("results.md"));
        Files.write(dir.resolve("ddp_allreduce.py"), resource("ddp_allreduce.py"));
        PeerReference ref = PeerReference.load(dir, null, 2, true);
        PeerCheck slow = ref.check("w1_throughput.py", List.of("--threads", "2"), 16000);
        assertEquals(PeerCheck.Status.BELOW, slow.status());
        assertEquals(32166.5, slow.reference(), 1e-9);
        PeerCheck ddp = ref.check("ddp_allreduce.py", List.of("--procs", "4", "--threads-per-proc", "1", "--iters", "300"), 5000);
        assertEquals(PeerCheck.Status.UNCHECKED, ddp.status());
        assertTrue(ddp.source().contains("has no row for ddp_allreduce.py --procs 4 --threads-per-proc 1"), ddp.source());

        assertEquals(PeerCheck.Status.UNCHECKED, PeerReference.load(dir, null, 4, true).check("w1_throughput.py", List.of("--threads", "2"),
                16000).status(), "another machine kind");
        PeerCheck none = PeerReference.load(dir.resolve("elsewhere"), null, 2, true).check("w1_throughput.py", List.of("--threads", "2"), 16000);
        assertEquals(PeerCheck.Status.UNCHECKED, none.status());
        assertTrue(none.source().startsWith("no "), none.source());
    }
}
