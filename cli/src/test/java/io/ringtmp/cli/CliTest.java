package io.ringtmp.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CliTest {
    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream old = System.out;
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        try {
            CommandLine cl = Main.commandLine();
            StringWriter err = new StringWriter();
            cl.setErr(new PrintWriter(err));
            int code = cl.execute(args);
            return new Run(code, bytes.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(old);
        }
    }

    @Test
    void blas_printsTheLibraryInUse() {
        Run r = run("blas");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("BLAS: "), r.out());
        assertTrue(r.out().contains("OpenBLAS") || r.out().contains("Vector API"), r.out());
    }

    @Test
    void everyCommand_hasHelp() {
        CommandLine root = Main.commandLine();
        for (CommandLine sub : root.getSubcommands().values()) {
            String name = sub.getCommandName();
            if (name.equals("help")) {
                continue;
            }
            Run r = run(name, "--help");
            assertEquals(0, r.code(), name);
            assertTrue(r.out().contains("Usage: ringtmp " + name), name + ": " + r.out());
            for (CommandLine leaf : sub.getSubcommands().values()) {
                Run l = run(name, leaf.getCommandName(), "--help");
                assertEquals(0, l.code(), name + " " + leaf.getCommandName());
                assertTrue(l.out().contains("Usage:"), l.out());
            }
        }
    }

    @Test
    void badOption_oneLineErrorAndNonZeroExit() {
        Run r = run("train", "--epochz", "3");
        assertEquals(2, r.code());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("--epochz"), r.err());
    }

    @Test
    void badModel_oneLineErrorNamingIt() {
        Run r = run("train", "--model", "mlp:784-abc-10", "--data", "synthetic:blobs?n=100&inputs=784");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("'abc' is not a number"), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
    }

    @Test
    void missingDataDirectory_isNamed(@TempDir Path dir) {
        Run r = run("train", "--model", "mlp:784-10", "--data", dir.resolve("nothing").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("nothing"), r.err());
    }

    @Test
    void train_synthetic_writesMetricsAndCheckpoint_thenResumes(@TempDir Path dir) throws IOException {
        Path metrics = dir.resolve("m.jsonl");
        Path ckpt = dir.resolve("ckpt");
        String data = "synthetic:blobs?n=1200&test=200&inputs=16&classes=3";
        Run r = run("train", "--model", "mlp:16-12-3", "--data", data, "--epochs", "2", "--batch", "50",
                "--lr", "0.1", "--threads", "1", "--metrics", metrics.toString(), "--checkpoint-dir", ckpt.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("epoch 2:") && r.out().contains("final test accuracy"), r.out());
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> lines = Files.readAllLines(metrics).stream().map(l -> {
            try {
                return json.readTree(l);
            } catch (IOException e) {
                throw new AssertionError(l, e);
            }
        }).toList();
        assertEquals("start", lines.get(0).get("event").asText());
        assertEquals(48, lines.stream().filter(n -> n.get("event").asText().equals("step")).count());
        assertEquals(2, lines.stream().filter(n -> n.get("event").asText().equals("epoch")).count());
        assertEquals("end", lines.get(lines.size() - 1).get("event").asText());
        assertTrue(lines.get(lines.size() - 1).get("testAccuracy").asDouble() > 0.9);

        Run resumed = run("train", "--model", "mlp:16-12-3", "--data", data, "--epochs", "3", "--batch", "50",
                "--lr", "0.1", "--threads", "1", "--checkpoint-dir", ckpt.toString(), "--resume");
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.out().contains("resumed from") && resumed.out().contains("at update 48"), resumed.out());
        assertTrue(resumed.out().contains("epoch 3:") && !resumed.out().contains("epoch 1:"), resumed.out());
    }
}
