package io.ringtmp.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringtmp.launch.Launcher;
import io.ringtmp.node.ClusterSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code ringtmp bench ps}: the parameter server on W1 or W2 for each (S, W, consistency), real
 * node processes through the launcher, next to the PyTorch peers at the same process count.
 * Samples/s are over the timed steps (after a warm-up): B samples per step over the mean of the
 * workers' summed step wall times; idle fractions are idle / wall over the same steps, averaged
 * over the workers and over the servers.
 */
@Command(name = "ps", mixinStandardHelpOptions = true,
        description = {"Parameter-server samples/s and idle fractions for each --servers, --workers and --consistency, "
                + "optionally next to the PyTorch peers (--peer): rpc_ps.py with the same workers, ddp_allreduce.py with the same process count.",
                "Lines read like 'W1 ps S=1 W=2 bsp: 12345.6 samples/s, idle workers 0.21 servers 0.80'."})
final class PsBench implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--workload", defaultValue = "W1", description = "W1 or W2 (default: ${DEFAULT-VALUE}).")
    String workload;

    @Option(names = "--servers", split = ",", defaultValue = "1,2", description = "Server counts (default: ${DEFAULT-VALUE}).")
    List<Integer> servers;

    @Option(names = "--workers", split = ",", defaultValue = "1,2,4", description = "Worker counts (default: ${DEFAULT-VALUE}).")
    List<Integer> workers;

    @Option(names = "--consistency", split = ",", defaultValue = "bsp,asp", description = "Consistency models (default: ${DEFAULT-VALUE}).")
    List<String> consistency;

    @Option(names = "--steps", defaultValue = "0", description = "Steps per run (0: W1 300, W2 12).")
    int steps;

    @Option(names = "--warmup", defaultValue = "-1", description = "Steps left out of the figures (-1: W1 50, W2 3).")
    int warmup;

    @Option(names = "--peer", description = "Directory of the PyTorch peer scripts (e.g. ../shared/peers/pytorch); W1 only.")
    Path peer;

    @Option(names = "--runs-dir", defaultValue = "runs/bench-ps", description = "Where the runs go (default: ${DEFAULT-VALUE}).")
    Path runsDir;

    @Override
    public Integer call() throws Exception {
        boolean w1 = workload.equalsIgnoreCase("W1");
        if (!w1 && !workload.equalsIgnoreCase("W2")) {
            throw new IllegalArgumentException("--workload must be W1 or W2, got " + workload);
        }
        String model = w1 ? "mlp:784-512-512-10" : "mlp:784-4096-4096-4096-4096-10";
        String data = w1 ? "synthetic:teacher?n=16384&test=512&inputs=784&classes=10"
                : "synthetic:teacher?n=4096&test=256&inputs=784&classes=10";
        int batch = w1 ? 128 : 256;
        int n = steps > 0 ? steps : w1 ? 300 : 12;
        int warm = warmup >= 0 ? warmup : w1 ? 50 : 3;
        if (n <= warm) {
            throw new IllegalArgumentException("--steps " + n + " must exceed the warm-up " + warm);
        }
        for (int s : servers) {
            for (int w : workers) {
                for (String c : consistency) {
                    Map<String, String> o = new LinkedHashMap<>();
                    o.put("servers", Integer.toString(s));
                    o.put("consistency", c);
                    o.put("batch", Integer.toString(batch));
                    o.put("lr", w1 ? "0.05" : "0.01");
                    o.put("momentum", "0.9");
                    o.put("epochs", "1000");
                    o.put("maxSteps", Integer.toString(n));
                    Files.createDirectories(runsDir);
                    ByteArrayOutputStream quiet = new ByteArrayOutputStream();
                    int code = Launcher.launch(new Launcher.Options(s + w, ClusterSpec.Mode.PS, o, model, data, runsDir,
                            LaunchCommand.nodeCommand(), null, 0, 30_000, false), new PrintStream(quiet, true, StandardCharsets.UTF_8));
                    Path run = newest(runsDir);
                    if (code != 0) {
                        System.out.println(workload + " ps S=" + s + " W=" + w + " " + c + ": failed (exit " + code + "), see " + run);
                        continue;
                    }
                    System.out.println(figures(run, s, w, batch, warm, workload.toUpperCase(Locale.ROOT) + " ps S=" + s + " W=" + w + " " + c));
                }
                if (peer != null && w1) {
                    runPeer("rpc_ps.py", "--workers", Integer.toString(w), "--consistency", "bsp", "--steps", "200");
                    runPeer("rpc_ps.py", "--workers", Integer.toString(w), "--consistency", "asp", "--steps", "200");
                    runPeer("ddp_allreduce.py", "--procs", Integer.toString(s + w));
                }
            }
        }
        return 0;
    }

    private static Path newest(Path dir) throws IOException {
        try (Stream<Path> l = Files.list(dir)) {
            return l.filter(Files::isDirectory).max(Comparator.comparing(p -> p.toFile().lastModified())).orElseThrow();
        }
    }

    /** Samples/s and idle fractions over the steps after {@code warm}, from the nodes' metrics files. */
    static String figures(Path run, int servers, int workers, int batch, int warm, String label) throws IOException {
        double wallSum = 0, workerIdle = 0, serverIdle = 0;
        int timed = 0;
        for (int id = 0; id < servers + workers; id++) {
            double wall = 0, idle = 0;
            int k = 0;
            for (String line : Files.readAllLines(run.resolve("node-" + id + ".jsonl"), StandardCharsets.UTF_8)) {
                JsonNode j = JSON.readTree(line);
                if (j.path("event").asText().equals("step") && j.get("step").asLong() > warm) {
                    wall += j.get("wallMs").asDouble();
                    idle += j.get("idleMs").asDouble();
                    k++;
                }
            }
            if (id < servers) {
                serverIdle += idle / wall / servers;
            } else {
                workerIdle += idle / wall / workers;
                wallSum += wall / workers;
                timed = k;
            }
        }
        double sps = timed * (double) batch / (wallSum / 1000);
        return String.format(Locale.ROOT, "%s: %.1f samples/s, idle workers %.2f servers %.2f (%d timed steps, %s)",
                label, sps, workerIdle, serverIdle, timed, run);
    }

    private void runPeer(String script, String... args) throws IOException, InterruptedException {
        ProcessBuilder pb = io.ringtmp.cli.bench.Peers.script(peer, script, args);
        Process p = pb.start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                if (line.startsWith("W1 ")) {
                    System.out.println(line);
                }
            }
        }
        if (p.waitFor() != 0) {
            System.out.println("(" + String.join(" ", pb.command()) + " exited with " + p.exitValue() + ")");
        }
    }
}
