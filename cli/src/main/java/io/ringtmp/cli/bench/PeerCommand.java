package io.ringtmp.cli.bench;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A peer script's invocation as far as its speed is concerned: the script's name and the options
 * that change what it measures. Run lengths ({@code --iters}, {@code --steps}, {@code --epochs})
 * and {@code --port} are left out; so is the value of {@code --data} (MNIST from any directory is
 * the same workload), but not its presence (MNIST and synthetic inputs run at different speeds).
 * Options a side leaves out take the script's defaults, when known.
 *
 * @param script  the script's file name, e.g. {@code ddp_allreduce.py}
 * @param options option name (with its dashes) to value; a flag without a value maps to ""
 */
public record PeerCommand(String script, Map<String, String> options) {
    /** Options that set how long a run is or where it listens, not how fast it goes. */
    static final Set<String> LENGTH_OPTIONS = Set.of("--iters", "--steps", "--epochs", "--port");

    public PeerCommand {
        options = Map.copyOf(options);
    }

    /** The command {@code script args...}; {@code defaults} (option to value) fill what args leave out. */
    public static PeerCommand of(String script, List<String> args, Map<String, String> defaults) {
        Map<String, String> o = new TreeMap<>();
        defaults.forEach((k, v) -> {
            if (!LENGTH_OPTIONS.contains(k) && !k.equals("--data")) {
                o.put(k, v);
            }
        });
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("peer command " + script + " " + args + ": '" + a + "' is not an option");
            }
            String value = i + 1 < args.size() && !args.get(i + 1).startsWith("--") ? args.get(++i) : "";
            if (LENGTH_OPTIONS.contains(a)) {
                continue;
            }
            o.put(a, a.equals("--data") ? "" : value);
        }
        return new PeerCommand(script, o);
    }

    /** {@code script --a 1 --b 2}, options in name order. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(script);
        options.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> sb.append(' ').append(e.getKey()).append(e.getValue().isEmpty() ? "" : " " + e.getValue()));
        return sb.toString();
    }
}
