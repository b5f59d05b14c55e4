package io.ringtmp.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringtmp.experiments.Machine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ringtmp experiment idle --profile quick} for real (12 launches of node processes, on
 * emulated devices where this runs as root), then {@code ringtmp report}, then the same
 * experiment with {@code --resume}, which has nothing left to run.
 */
@Timeout(value = 600, unit = TimeUnit.SECONDS)
class ExperimentIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static String run(String... args) {
        PrintStream saved = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int code;
        try (PrintStream p = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
            System.setOut(new PrintStream(new TeeStream(p, saved), true, StandardCharsets.UTF_8));
            code = Main.commandLine().execute(args);
        } finally {
            System.setOut(saved);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, out);
        return out;
    }

    @Test
    void idleQuick_thenReport_thenResumeRunsNothing() throws Exception {
        String printed = run("experiment", "idle", "--out", dir.toString(), "--profile", "quick");
        assertTrue(printed.contains("[12/12, 0 left after this, "), printed);

        List<String> lines = Files.readAllLines(dir.resolve("idle.jsonl"));
        assertEquals(12, lines.size());
        Set<String> keys = new HashSet<>();
        Set<String> modes = new HashSet<>();
        for (String line : lines) {
            JsonNode j = JSON.readTree(line);
            assertEquals("ok", j.path("status").asText(), line);
            keys.add(j.path("key").asText());
            JsonNode s = j.path("settings");
            modes.add(s.path("system").asText() + " " + s.path("mode").asText() + " " + s.path("nodes").asInt());
            int k = s.path("nodes").asInt();
            JsonNode idle = j.path("figures").path("workerIdle");
            assertEquals(s.path("system").asText().equals("ring") ? k : k - 1, idle.size(), line);
            for (JsonNode f : idle) {
                assertTrue(f.asDouble() >= 0 && f.asDouble() <= 1, line);
            }
            assertTrue(j.path("figures").path("samplesPerSec").asDouble() > 0, line);
            assertTrue(j.path("machine").path("cores").asInt() > 0, line);
            assertTrue(!j.path("commit").asText().isEmpty(), line);
            if (Machine.isRoot()) {
                assertTrue(j.path("emulated").asBoolean() || j.path("note").asText().startsWith("emulation failed"), line);
            } else {
                assertEquals("not root: ran unemulated on 127.0.0.1", j.path("note").asText(), line);
            }
            assertTrue(Files.exists(Path.of(j.path("figures").path("runDir").asText()).resolve("summary.json")), line);
        }
        assertEquals(12, keys.size());
        assertEquals(12, modes.size());

        String reported = run("report", dir.toString());
        assertTrue(reported.contains("Claim 1"), reported);
        String md = Files.readString(dir.resolve("report.md"));
        assertTrue(md.matches("(?s).*- Claim 1 [^\\n]*: \\*\\*(holds at K = [23]|does not hold at K = [23])[^\\n]*\\*\\*\\. Rule: claim 1 holds at K if.*"), md);
        assertTrue(md.contains("12 ok runs (0 failed), 1 repetition(s) per setting"), md);
        String html = Files.readString(dir.resolve("report.html"));
        assertEquals(1, html.split("<img alt=\"[^\"]*\" src=\"data:image/png;base64,", -1).length - 1);

        String resumed = run("experiment", "idle", "--out", dir.toString(), "--resume");
        assertTrue(resumed.contains("12 runs (12 already done, skipped)"), resumed);
        assertEquals(12, Files.readAllLines(dir.resolve("idle.jsonl")).size());
    }

    /** Writes to two streams: the test's capture and the console (progress while the IT runs). */
    private static final class TeeStream extends java.io.OutputStream {
        private final java.io.OutputStream a;
        private final java.io.OutputStream b;

        TeeStream(java.io.OutputStream a, java.io.OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int c) throws java.io.IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public void write(byte[] buf, int off, int len) throws java.io.IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }
    }
}
