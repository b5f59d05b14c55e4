package io.ringtmp.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The experiment and report commands' refusals, before any run starts. */
class ExperimentCommandTest {
    @TempDir
    Path dir;

    private static String[] run(String... args) {
        StringWriter err = new StringWriter();
        var cl = Main.commandLine();
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new String[] {Integer.toString(code), err.toString()};
    }

    @Test
    void experiment_unknownName_exits1NamingTheChoices() {
        String[] r = run("experiment", "speed", "--out", dir.toString());
        assertEquals("1", r[0]);
        assertTrue(r[1].contains("experiment must be idle, progress, scaling, resilience, capacity or all, got speed"), r[1]);
    }

    @Test
    void experiment_withoutOut_exits2() {
        assertEquals("2", run("experiment", "idle")[0]);
    }

    @Test
    void experiment_badProfile_exits1() {
        String[] r = run("experiment", "idle", "--out", dir.toString(), "--profile", "medium");
        assertEquals("1", r[0]);
        assertTrue(r[1].contains("--profile must be quick or full, got medium"), r[1]);
    }

    @Test
    void experiment_existingResultsWithoutResume_exits1AndKeepsThem() throws Exception {
        Files.writeString(dir.resolve("idle.jsonl"), "{\"key\":\"k\",\"status\":\"ok\"}\n");
        String[] r = run("experiment", "idle", "--out", dir.toString());
        assertEquals("1", r[0]);
        assertTrue(r[1].contains("pass --resume"), r[1]);
        assertEquals("{\"key\":\"k\",\"status\":\"ok\"}\n", Files.readString(dir.resolve("idle.jsonl")));
    }

    @Test
    void report_emptyDirectory_exits1() {
        String[] r = run("report", dir.toString());
        assertEquals("1", r[0]);
        assertTrue(r[1].contains("has no results"), r[1]);
    }
}
