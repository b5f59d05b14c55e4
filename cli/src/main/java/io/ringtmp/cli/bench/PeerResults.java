package io.ringtmp.cli.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A peer's own published figures: the table of its {@code results.md}, one row per command, as
 * {@code | what | `command` | runs · runs · ... | ...|}, under a heading that names the machine kind
 * ({@code (2 cores, AVX-512)}). A row's figure is the median of its runs; a runs cell that says
 * {@code MNIST} was measured on MNIST, as if its command had {@code --data}.
 *
 * <p>Immutable; parse once per benchmark.
 */
public final class PeerResults {
    /**
     * One row.
     *
     * @param label    the row's first cell, e.g. {@code W1, 2 cores, synthetic}
     * @param command  what it ran
     * @param runs     samples/s of each run
     */
    public record Row(String label, PeerCommand command, List<Double> runs) {
        /** The median of the runs. */
        public double median() {
            double[] r = runs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            return r.length % 2 == 1 ? r[r.length / 2] : (r[r.length / 2 - 1] + r[r.length / 2]) / 2;
        }
    }

    private static final Pattern COMMAND = Pattern.compile("`([^`]+)`");
    private static final Pattern NUMBER = Pattern.compile("(?<![\\w.])(\\d{1,3}(?:,\\d{3})+|\\d+)(?:\\.\\d+)?(?![\\w,])");
    private static final Pattern CORES = Pattern.compile("\\((\\d+) cores?\\b([^)]*)\\)");

    private final Path source;
    private final List<Row> rows;
    private final OptionalInt cores;
    private final boolean avx512;

    private PeerResults(Path source, List<Row> rows, OptionalInt cores, boolean avx512) {
        this.source = source;
        this.rows = List.copyOf(rows);
        this.cores = cores;
        this.avx512 = avx512;
    }

    /** Parses {@code file}; each script's option defaults come from {@code defaults} (script name to option to value). */
    public static PeerResults read(Path file, Map<String, Map<String, String>> defaults) throws IOException {
        return parse(file, Files.readAllLines(file, StandardCharsets.UTF_8), defaults);
    }

    static PeerResults parse(Path source, List<String> lines, Map<String, Map<String, String>> defaults) {
        List<Row> rows = new ArrayList<>();
        OptionalInt cores = OptionalInt.empty();
        boolean avx512 = false;
        for (String line : lines) {
            if (line.startsWith("#") && cores.isEmpty()) {
                Matcher m = CORES.matcher(line);
                if (m.find()) {
                    cores = OptionalInt.of(Integer.parseInt(m.group(1)));
                    avx512 = m.group(2).toUpperCase(Locale.ROOT).contains("AVX-512");
                }
            }
            Row r = row(line, defaults);
            if (r != null) {
                rows.add(r);
            }
        }
        return new PeerResults(source, rows, cores, avx512);
    }

    /** The row in {@code line}, or null when it is no table row with a command and runs. */
    private static Row row(String line, Map<String, Map<String, String>> defaults) {
        String t = line.trim();
        if (!t.startsWith("|")) {
            return null;
        }
        String[] cells = t.substring(1).split("\\|", -1);
        if (cells.length < 3) {
            return null;
        }
        Matcher c = COMMAND.matcher(cells[1]);
        if (!c.find()) {
            return null;
        }
        List<String> words = new ArrayList<>(Arrays.asList(c.group(1).trim().split("\\s+")));
        String script = words.remove(0);
        if (!script.endsWith(".py")) {
            return null;
        }
        String runsCell = cells[2];
        // A note in brackets ("(MNIST, 703 steps each)") is no run; it may say the data.
        String runsOnly = runsCell.replaceAll("\\([^)]*\\)", " ");
        List<Double> runs = new ArrayList<>();
        Matcher n = NUMBER.matcher(runsOnly);
        while (n.find()) {
            runs.add(Double.parseDouble(n.group().replace(",", "")));
        }
        if (runs.isEmpty()) {
            return null;
        }
        if (runsCell.toUpperCase(Locale.ROOT).contains("MNIST") && !words.contains("--data")) {
            words.add("--data");
            words.add("D");
        }
        PeerCommand cmd = PeerCommand.of(script, words, defaults.getOrDefault(script, Map.of()));
        return new Row(cells[0].trim(), cmd, runs);
    }

    /** The row that ran {@code command}, if any. */
    public Optional<Row> find(PeerCommand command) {
        return rows.stream().filter(r -> r.command().equals(command)).findFirst();
    }

    public List<Row> rows() {
        return rows;
    }

    public Path source() {
        return source;
    }

    /**
     * Why these figures do not describe a machine with {@code cores} cores (and AVX-512 or not),
     * or empty when they do (or the file does not say).
     */
    public Optional<String> otherMachine(int cores, boolean hasAvx512) {
        if (this.cores.isPresent() && this.cores.getAsInt() != cores) {
            return Optional.of(source + " was measured on " + this.cores.getAsInt() + " cores, this machine has " + cores);
        }
        if (avx512 && !hasAvx512) {
            return Optional.of(source + " was measured with AVX-512, which this machine lacks");
        }
        return Optional.empty();
    }

    /**
     * Option defaults of a peer script, read from its {@code p.add_argument("--x", ..., default=V)}
     * lines; empty where there are none.
     */
    public static Map<String, String> scriptDefaults(Path script) throws IOException {
        Map<String, String> d = new TreeMap<>();
        if (!Files.isRegularFile(script)) {
            return d;
        }
        Pattern p = Pattern.compile("add_argument\\(\\s*\"(--[\\w-]+)\"[^\\n]*?default=\"?([\\w.]+)\"?");
        for (String line : Files.readAllLines(script, StandardCharsets.UTF_8)) {
            Matcher m = p.matcher(line);
            if (m.find()) {
                d.put(m.group(1), m.group(2));
            }
        }
        return d;
    }
}
