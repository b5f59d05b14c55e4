package io.ringtmp.experiments;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HarnessTest {
    @TempDir
    Path dir;

    /** Runs x = 1..3 (quick) or 1..5 (full); figures: x squared; fails for x in {@code failing}. */
    static final class Squares implements Experiment {
        final List<Integer> failing;
        final List<Integer> ran = new ArrayList<>();

        Squares(List<Integer> failing) {
            this.failing = failing;
        }

        @Override
        public String name() {
            return "squares";
        }

        @Override
        public List<RunSpec> runs(Profile profile) {
            List<RunSpec> r = new ArrayList<>();
            for (int x = 1; x <= (profile == Profile.QUICK ? 3 : 5); x++) {
                r.add(new RunSpec(Map.of("x", x), 7, 0));
            }
            return r;
        }

        @Override
        public Outcome run(RunSpec run, RunContext context) {
            int x = run.integer("x");
            ran.add(x);
            if (failing.contains(x)) {
                throw new IllegalStateException("x=" + x + " broke");
            }
            return new Outcome(Map.of("square", x * x), false, x == 1 ? "not root: ran unemulated on 127.0.0.1" : "");
        }
    }

    private final ByteArrayOutputStream printed = new ByteArrayOutputStream();
    private final AtomicLong now = new AtomicLong();

    private Harness harness() {
        RunContext ctx = new RunContext(dir.resolve("runs"), List.of("node"), false, new PrintStream(new ByteArrayOutputStream()));
        // Every reading of the clock advances it by 1.5 s.
        return new Harness(dir, ctx, new PrintStream(printed, true, StandardCharsets.UTF_8), () -> now.addAndGet(1_500_000_000L),
                "abc123", new Machine(2, "Test CPU"));
    }

    @Test
    void run_writesOneRowPerRun_withProvenanceAndFigures() throws Exception {
        Harness.Summary s = harness().run(new Squares(List.of(2)), Profile.QUICK, false);
        assertEquals(3, s.ran());
        assertEquals(1, s.failed());
        List<JsonNode> rows = Harness.readRows(dir.resolve("squares.jsonl"));
        assertEquals(3, rows.size());
        JsonNode first = rows.get(0);
        assertEquals("x=1,seed=7,rep=0", first.path("key").asText());
        assertEquals("ok", first.path("status").asText());
        assertEquals("abc123", first.path("commit").asText());
        assertEquals(2, first.path("machine").path("cores").asInt());
        assertEquals("Test CPU", first.path("machine").path("cpuModel").asText());
        assertEquals(1, first.path("settings").path("x").asInt());
        assertEquals(7, first.path("seed").asLong());
        assertEquals(0, first.path("repetition").asInt());
        assertEquals(1, first.path("figures").path("square").asInt());
        assertEquals("not root: ran unemulated on 127.0.0.1", first.path("note").asText());
        assertEquals(1.5, first.path("runSeconds").asDouble(), 1e-9);
        assertEquals("failed", rows.get(1).path("status").asText());
        assertEquals("x=2 broke", rows.get(1).path("error").asText());
        assertEquals(9, rows.get(2).path("figures").path("square").asInt());
    }

    @Test
    void run_printsWhichRunHowManyLeftAndTimeSoFar() throws Exception {
        harness().run(new Squares(List.of()), Profile.QUICK, false);
        String out = printed.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("[1/3, 2 left after this, 2s so far] squares x=1,seed=7,rep=0"), out);
        assertTrue(out.contains("[3/3, 0 left after this, "), out);
        assertTrue(out.contains("not root"), out);
    }

    @Test
    void resume_skipsOkRuns_rerunsFailedAndMissingOnes() throws Exception {
        harness().run(new Squares(List.of(2)), Profile.QUICK, false);
        Squares again = new Squares(List.of());
        Harness.Summary s = harness().run(again, Profile.FULL, true);
        assertEquals(List.of(2, 4, 5), again.ran);
        assertEquals(2, s.skipped());
        assertEquals(3, s.ran());
        assertEquals(6, Harness.readRows(dir.resolve("squares.jsonl")).size());
        assertEquals(java.util.Set.of("x=1,seed=7,rep=0", "x=2,seed=7,rep=0", "x=3,seed=7,rep=0", "x=4,seed=7,rep=0", "x=5,seed=7,rep=0"),
                Harness.doneKeys(dir.resolve("squares.jsonl")));
    }

    @Test
    void resume_lineCutShort_runsThatRunAgain() throws Exception {
        harness().run(new Squares(List.of()), Profile.QUICK, false);
        Path f = dir.resolve("squares.jsonl");
        List<String> lines = Files.readAllLines(f);
        Files.writeString(f, lines.get(0) + "\n" + lines.get(1).substring(0, 20), StandardCharsets.UTF_8, StandardOpenOption.TRUNCATE_EXISTING);
        Files.writeString(f, "\n", StandardOpenOption.APPEND);
        Squares again = new Squares(List.of());
        harness().run(again, Profile.QUICK, true);
        assertEquals(List.of(2, 3), again.ran);
    }

    @Test
    void run_existingResultsWithoutResume_refusesAndKeepsThem() throws Exception {
        harness().run(new Squares(List.of()), Profile.QUICK, false);
        long before = Files.size(dir.resolve("squares.jsonl"));
        Squares again = new Squares(List.of());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> harness().run(again, Profile.QUICK, false));
        assertTrue(e.getMessage().contains("--resume"), e.getMessage());
        assertEquals(List.of(), again.ran);
        assertEquals(before, Files.size(dir.resolve("squares.jsonl")));
    }

    @Test
    void machine_cpuModel_readsFirstModelName() throws Exception {
        Path info = dir.resolve("cpuinfo");
        Files.writeString(info, "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 9B45\nprocessor\t: 1\nmodel name\t: other\n");
        assertEquals("AMD EPYC 9B45", Machine.cpuModel(info));
        assertEquals("unknown", Machine.cpuModel(dir.resolve("missing")));
    }
}
