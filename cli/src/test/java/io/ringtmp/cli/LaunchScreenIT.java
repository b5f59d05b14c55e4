package io.ringtmp.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ringtmp launch} as a newcomer sees it: run in a real 120-column pseudo-terminal (through
 * util-linux's {@code script}), its screen holds the partition, a bar per epoch, the accuracy
 * after each and the idle table, every line within 120 columns; the nodes' own output (BLAS,
 * links, library logging) is in their logs.
 */
class LaunchScreenIT {
    private static final int COLUMNS = 120;
    private static final String DATA = "synthetic:teacher?n=4096&inputs=64&classes=10";

    @TempDir
    Path dir;

    private record Screen(int exitCode, String raw, List<String> lines) {
        String text() {
            return String.join("\n", lines);
        }
    }

    /** Runs {@code ringtmp launch args} in a pty of 120 columns, in {@code dir}, as the ringtmp script does. */
    private Screen launch(boolean checkWidth, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(LaunchCommand.nodeCommand());
        cmd.remove(cmd.size() - 1); // "node"
        // The ringtmp script starts launch without the Vector API module (its nodes get it).
        cmd.removeIf(a -> a.startsWith("--add-modules"));
        cmd.add("launch");
        cmd.addAll(Arrays.asList(args));
        StringBuilder sh = new StringBuilder("stty cols " + COLUMNS + " rows 40; exec");
        for (String a : cmd) {
            sh.append(" '").append(a.replace("'", "'\\''")).append('\'');
        }
        Process p = new ProcessBuilder("script", "-qfec", sh.toString(), "/dev/null").directory(dir.toFile())
                .redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.PIPE).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "launch did not end");
        String raw = new String(out, StandardCharsets.UTF_8);
        List<String> lines = new ArrayList<>();
        for (String line : raw.replace("\r\n", "\n").split("\n")) {
            // Each \r redraws the line: check every frame's width, keep the last.
            for (String frame : checkWidth ? line.split("\r") : new String[0]) {
                assertTrue(frame.replace("\033[K", "").stripTrailing().length() <= COLUMNS, "wider than " + COLUMNS + " columns: " + frame);
            }
            lines.add(line.substring(line.lastIndexOf('\r') + 1).replace("\033[K", "").stripTrailing());
        }
        return new Screen(p.exitValue(), raw, lines);
    }

    private static Path runDir(Path dir) throws IOException {
        try (var s = Files.list(dir.resolve("runs"))) {
            return s.findFirst().orElseThrow();
        }
    }

    @Test
    void ring_showsPartitionBarsAccuracyAndIdle_nodeOutputInTheirLogs() throws Exception {
        Screen s = launch(true, "--nodes", "2", "--mode", "ring", "--schedule", "1f1b", "--model", "mlp:64-128-10", "--data", DATA,
                "--epochs", "2", "--batch", "64", "--runs-dir", "runs");
        String text = s.text();
        assertEquals(0, s.exitCode(), s.raw());
        List<String> l = s.lines().stream().filter(x -> !x.isEmpty()).toList();
        int i = 0;
        assertTrue(l.get(i++).matches("run [0-9a-f]+: 2 nodes, mode ring on 127\\.0\\.0\\.1"), text);
        assertTrue(l.get(i++).startsWith("  spec, metrics and node logs: runs/"), text);
        assertEquals("  links: mutual TLS 1.3, a CA made for this run (certs/ beside the spec)", l.get(i++), text);
        assertTrue(l.get(i++).startsWith("partition: 1f1b schedule, "), text);
        assertTrue(l.get(i++).startsWith("  stage 0: layers fc1.."), text);
        assertTrue(l.get(i++).startsWith("  stage 1: layers "), text);
        for (int e = 1; e <= 2; e++) {
            assertTrue(l.get(i).startsWith("epoch " + e + "/2 100%") && l.get(i).contains("64/64 steps"), l.get(i) + "\n" + text);
            i++;
            assertTrue(l.get(i++).startsWith("epoch " + e + ": test accuracy "), text);
        }
        assertTrue(l.get(i++).startsWith("per node, steps after the first"), text);
        assertTrue(l.get(i++).startsWith("  node  part "), text);
        assertTrue(l.get(i++).startsWith("     0  fc1.."), text);
        assertTrue(l.get(i++).startsWith("     1  "), text);
        assertTrue(l.get(i++).startsWith("node logs: runs/"), text);
        assertEquals(i, l.size(), text);
        for (String noise : new String[]{"INFO", "WARNING", "InstanceBuilder", "[node", "BLAS"}) {
            assertTrue(!text.contains(noise), "'" + noise + "' on the screen:\n" + text);
        }
        String log0 = Files.readString(runDir(dir).resolve("node-0.log"));
        assertTrue(log0.contains("node 0 BLAS: ") && log0.contains("epoch 2: step 128"), log0);
        assertTrue(log0.contains("node 0 links: TLSv1.3 TLS_AES_128_GCM_SHA256, mutual"), log0);
        assertTrue(!log0.contains("InstanceBuilder"), "netlib's INFO logging is quiet by default:\n" + log0);
    }

    @Test
    void aFailedNode_isNamedWithTheEndOfItsLog() throws Exception {
        // Every node refuses to resume from an empty checkpoint folder, after the launcher started them.
        Files.createDirectories(dir.resolve("checkpoints"));
        Screen s = launch(false, "--nodes", "2", "--mode", "ring", "--model", "mlp:64-16-10", "--data", DATA, "--epochs", "1",
                "--resume", "--checkpoint-dir", "checkpoints", "--runs-dir", "runs");
        String text = s.text();
        assertTrue(s.exitCode() != 0, text);
        // Both nodes refuse; whichever exits first is the one named (node 1 may, told by node 0 or on its own).
        assertTrue(text.matches("(?s).*\nnode [01] exited with 1\n.*"), text);
        assertTrue(text.contains("\nnode 0, the end of its log:\n"), text);
        assertTrue(text.contains("  ring not started: resume: no step at which every stage saved a checkpoint"), text);
        assertTrue(text.contains("\nnode logs: runs/"), text);
    }
}
