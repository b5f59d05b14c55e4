package io.ringtmp.experiments;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * Runs an experiment's runs one after another and appends one JSON line per run to
 * {@code <outDir>/<experiment>.jsonl}: the run's key, status ({@code ok} or {@code failed}), the
 * commit, the machine, the settings, seed and repetition, whether it ran emulated (and a note when
 * it differs from its settings), the measured figures (or the error) and how long it took.
 *
 * <p>Progress goes to {@code out}, one line per run before it starts (which run, how many are
 * left, the time so far) and one when it ends. With {@code resume}, runs whose key has an
 * {@code ok} line in the file are skipped (a failed run is run again); without it, an existing
 * results file is refused rather than mixed with new runs. Not thread-safe: one harness, one
 * thread.
 */
public final class Harness {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What one {@link #run} did. */
    public record Summary(Path results, int ran, int skipped, int failed) {
    }

    private final Path outDir;
    private final RunContext context;
    private final PrintStream out;
    private final LongSupplier nanoTime;
    private final String commit;
    private final Machine machine;

    /** A harness on this machine, with the working directory's commit and the system clock. */
    public Harness(Path outDir, RunContext context, PrintStream out) {
        this(outDir, context, out, System::nanoTime, Machine.commit(), Machine.detect());
    }

    /**
     * @param nanoTime a monotonic clock, for the progress lines and each run's seconds
     * @param commit   what the rows record as the commit
     * @param machine  what the rows record as the machine
     */
    public Harness(Path outDir, RunContext context, PrintStream out, LongSupplier nanoTime, String commit, Machine machine) {
        this.outDir = outDir;
        this.context = context;
        this.out = out;
        this.nanoTime = nanoTime;
        this.commit = commit;
        this.machine = machine;
    }

    /** The results file of {@code experiment} in {@code dir}. */
    public static Path resultsFile(Path dir, String experiment) {
        return dir.resolve(experiment + ".jsonl");
    }

    /** Runs {@code experiment}'s {@code profile} runs (those not done yet, with {@code resume}). */
    public Summary run(Experiment experiment, Profile profile, boolean resume) throws IOException {
        Files.createDirectories(outDir);
        Path file = resultsFile(outDir, experiment.name());
        Set<String> done = new HashSet<>();
        if (Files.exists(file) && Files.size(file) > 0) {
            if (!resume) {
                throw new IllegalStateException(file + " exists: pass --resume to skip its finished runs, or choose another --out");
            }
            done = doneKeys(file);
        }
        List<RunSpec> runs = experiment.runs(profile);
        List<RunSpec> todo = new java.util.ArrayList<>();
        for (RunSpec r : runs) {
            if (!done.contains(r.key())) {
                todo.add(r);
            }
        }
        int skipped = runs.size() - todo.size();
        out.printf(Locale.ROOT, "experiment %s, profile %s: %d runs%s, results in %s%n", experiment.name(), profile.id(), runs.size(),
                skipped > 0 ? " (" + skipped + " already done, skipped)" : "", file);
        if (!context.canEmulate()) {
            out.println("  not root: runs that ask for emulated devices run as plain processes on 127.0.0.1 (each row's note says so)");
        }
        long t0 = nanoTime.getAsLong();
        int failed = 0;
        for (int i = 0; i < todo.size(); i++) {
            RunSpec r = todo.get(i);
            out.printf(Locale.ROOT, "[%d/%d, %d left after this, %s so far] %s %s%n", i + 1, todo.size(), todo.size() - i - 1,
                    clock(nanoTime.getAsLong() - t0), experiment.name(), r.key());
            Instant started = Instant.now();
            double loadAverage = Machine.loadAverage();
            long s0 = nanoTime.getAsLong();
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("experiment", experiment.name());
            row.put("key", r.key());
            try {
                Experiment.Outcome o = experiment.run(r, context);
                double secs = (nanoTime.getAsLong() - s0) / 1e9;
                row.put("status", "ok");
                fill(row, r, started, loadAverage, secs);
                row.put("emulated", o.emulated());
                row.put("note", o.note());
                row.put("figures", o.figures());
                out.printf(Locale.ROOT, "  ok in %.1f s%s%n", secs, o.note().isEmpty() ? "" : " (" + o.note() + ")");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted during " + r.key(), e);
            } catch (Exception e) {
                failed++;
                double secs = (nanoTime.getAsLong() - s0) / 1e9;
                row.put("status", "failed");
                fill(row, r, started, loadAverage, secs);
                row.put("error", String.valueOf(e.getMessage()));
                out.printf(Locale.ROOT, "  FAILED in %.1f s: %s%n", secs, e.getMessage());
            }
            append(file, row);
        }
        out.printf(Locale.ROOT, "experiment %s: %d run, %d skipped, %d failed, %s%n", experiment.name(), todo.size(), skipped, failed,
                clock(nanoTime.getAsLong() - t0));
        return new Summary(file, todo.size(), skipped, failed);
    }

    private void fill(Map<String, Object> row, RunSpec r, Instant started, double loadAverage, double secs) {
        row.put("commit", commit);
        row.put("machine", machine.toMap());
        row.put("settings", r.settings());
        row.put("seed", r.seed());
        row.put("repetition", r.repetition());
        row.put("startedAt", started.toString());
        row.put("loadAverage", loadAverage);
        row.put("runSeconds", secs);
    }

    /** The keys with an {@code ok} line in {@code file}; unreadable lines (a run cut short) are skipped. */
    static Set<String> doneKeys(Path file) throws IOException {
        Set<String> keys = new HashSet<>();
        for (JsonNode j : readRows(file)) {
            if (j.path("status").asText().equals("ok")) {
                keys.add(j.path("key").asText());
            }
        }
        return keys;
    }

    /** Every parseable line of a results file. */
    public static List<JsonNode> readRows(Path file) throws IOException {
        List<JsonNode> rows = new java.util.ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            try {
                rows.add(JSON.readTree(line));
            } catch (IOException e) {
                // A line cut short by a killed harness: that run is not done.
            }
        }
        return rows;
    }

    private static void append(Path file, Map<String, Object> row) throws IOException {
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            w.write(JSON.writeValueAsString(row));
            w.write('\n');
        }
    }

    static String clock(long nanos) {
        long s = Math.round(nanos / 1e9);
        return s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60) : s + "s";
    }
}
