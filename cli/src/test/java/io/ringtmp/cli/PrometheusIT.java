package io.ringtmp.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringtmp.launch.Launcher;
import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.TrainingOptions;
import io.ringtmp.ring.RingOptions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Live metrics: a real Prometheus server (Debian's {@code prometheus}) scrapes every node of a
 * 2-node ring launch on 127.0.0.1 (each node serving {@code /metrics} from
 * {@code --prometheus-port 0}); the test reads node 1's idle fraction back through Prometheus's
 * HTTP API while the ring trains, and checks it against the idle ÷ wall of the same number of
 * steps in node 1's own {@code step} lines. Skipped, saying why, only where prometheus is not
 * installed ({@code scripts/env.sh} installs it as root).
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class PrometheusIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern SERVING = Pattern.compile("\\[node (\\d+)\\] node \\d+: Prometheus metrics at http://([^/]+)/metrics");
    /** Steps node 1 must have made (as Prometheus last saw it) before the reading counts. */
    private static final int STEPS_SEEN = 20;

    @TempDir
    Path dir;

    private static Optional<Path> prometheus() {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            Path p = Path.of(d, "prometheus");
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    @Test
    void ringLaunch_prometheusScrapesEveryNode_idleFractionMatchesTheStepLines() throws Exception {
        Optional<Path> bin = prometheus();
        Assumptions.assumeTrue(bin.isPresent(), "no prometheus on the PATH: scripts/env.sh installs Debian's prometheus package as root");
        int webPort = Launcher.freePorts(1).get(0);
        Path targets = dir.resolve("targets.json");
        Files.writeString(targets, "[]");
        Files.writeString(dir.resolve("prometheus.yml"), """
                global:
                  scrape_interval: 1s
                  scrape_timeout: 1s
                scrape_configs:
                  - job_name: ringtmp
                    file_sd_configs:
                      - files: ['%s']
                        refresh_interval: 1s
                """.formatted(targets));
        Process prom = new ProcessBuilder(bin.get().toString(), "--config.file=" + dir.resolve("prometheus.yml"),
                "--storage.tsdb.path=" + dir.resolve("tsdb"), "--web.listen-address=127.0.0.1:" + webPort)
                .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        String api = "http://127.0.0.1:" + webPort;
        Map<Integer, String> endpoints = new ConcurrentHashMap<>();
        AtomicReference<Launcher.Run> run = new AtomicReference<>();
        AtomicReference<Throwable> launchError = new AtomicReference<>();
        Thread launch = null;
        try {
            awaitReady(http, api, prom);
            List<String> nodeCmd = new ArrayList<>(LaunchCommand.nodeCommand());
            nodeCmd.addAll(List.of("--prometheus-port", "0"));
            Map<String, String> o = Map.of(RingOptions.SCHEDULE, "1f1b", RingOptions.MICROBATCHES, "4", RingOptions.PROFILE, "estimate",
                    TrainingOptions.BATCH, "128", TrainingOptions.EPOCHS, "100", TrainingOptions.MAX_STEPS, "100000",
                    TrainingOptions.THREADS, "1", RingOptions.EVAL_BATCH, "256");
            Launcher.Options opts = new Launcher.Options(2, ClusterSpec.Mode.RING, o, "mlp:784-256-256-256-10",
                    "synthetic:teacher?n=6400&test=256&inputs=784&classes=10&seed=1", dir.resolve("runs"), nodeCmd, null, 0, 0, false);
            PrintStream out = new PrintStream(new LineWatcher(line -> {
                Matcher m = SERVING.matcher(line);
                if (m.find()) {
                    endpoints.put(Integer.parseInt(m.group(1)), m.group(2));
                }
            }), true, StandardCharsets.UTF_8);
            launch = new Thread(() -> {
                try {
                    run.set(Launcher.launch(opts, out));
                } catch (InterruptedException e) {
                    // Ended by the test once it has its reading: the launcher stops the nodes, which write their metrics.
                } catch (Throwable t) {
                    launchError.set(t);
                }
            }, "prometheus-it-launch");
            launch.start();

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (endpoints.size() < 2) {
                assertTrue(System.nanoTime() < deadline && launch.isAlive(), "nodes did not say where they serve metrics: " + endpoints
                        + " " + launchError.get());
                Thread.sleep(100);
            }
            Path tmp = dir.resolve("targets.json.tmp");
            Files.writeString(tmp, JSON.writeValueAsString(List.of(Map.of("targets", List.copyOf(endpoints.values())))));
            Files.move(tmp, targets, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);

            // Both nodes scraped (up == 1), and node 1 seen past STEPS_SEEN steps.
            double steps = 0;
            JsonNode last = null;
            while (steps < STEPS_SEEN || countUp(query(http, api, "up{job=\"ringtmp\"} == 1", null)) < 2) {
                assertTrue(System.nanoTime() < deadline && launch.isAlive(), "Prometheus did not see node 1 reach " + STEPS_SEEN
                        + " steps: " + last + " " + launchError.get() + "; see " + dir.resolve("prometheus.log"));
                Thread.sleep(500);
                last = query(http, api, "ringtmp_wall_seconds_count{node=\"1\"}", null);
                steps = last.size() == 1 ? last.get(0).path("value").get(1).asDouble() : 0;
            }
            // The same evaluation time for both queries: the same scrape's samples.
            String at = last.get(0).path("value").get(0).asText();
            JsonNode idle = query(http, api, "ringtmp_idle_seconds_sum{node=\"1\"} / ringtmp_wall_seconds_sum{node=\"1\"}", at);
            JsonNode count = query(http, api, "ringtmp_wall_seconds_count{node=\"1\"}", at);
            assertEquals(1, idle.size(), idle.toString());
            double promIdle = idle.get(0).path("value").get(1).asDouble();
            long n = (long) count.get(0).path("value").get(1).asDouble();
            assertEquals("127.0.0.1:" + endpoints.get(1).split(":")[1], idle.get(0).path("metric").path("instance").asText());

            launch.interrupt();
            launch.join(60_000);
            Path runDir;
            try (var s = Files.list(dir.resolve("runs"))) {
                runDir = s.findFirst().orElseThrow();
            }
            double idleMs = 0, wallMs = 0;
            int seen = 0;
            for (String line : Files.readAllLines(runDir.resolve("node-1.jsonl"))) {
                JsonNode j = JSON.readTree(line);
                if (j.path("event").asText().equals("step") && seen < n) {
                    idleMs += j.path("idleMs").asDouble();
                    wallMs += j.path("wallMs").asDouble();
                    seen++;
                }
            }
            assertEquals(n, seen, "node 1 wrote fewer step lines than Prometheus counted");
            double fileIdle = idleMs / wallMs;
            System.out.printf("PrometheusIT: node 1 idle after %d steps: %.6f from Prometheus, %.6f from its step lines%n", n, promIdle, fileIdle);
            assertTrue(promIdle > 0 && promIdle < 1, "idle fraction " + promIdle);
            assertEquals(fileIdle, promIdle, 1e-4);
        } finally {
            if (launch != null && launch.isAlive()) {
                launch.interrupt();
                launch.join(60_000);
            }
            prom.destroy();
            if (!prom.waitFor(10, TimeUnit.SECONDS)) {
                prom.destroyForcibly();
            }
        }
    }

    private static int countUp(JsonNode result) {
        return result.size();
    }

    private static void awaitReady(HttpClient http, String api, Process prom) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            assertTrue(prom.isAlive(), "prometheus exited with " + (prom.isAlive() ? "" : prom.exitValue()));
            try {
                if (http.send(HttpRequest.newBuilder(URI.create(api + "/-/ready")).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode() == 200) {
                    return;
                }
            } catch (java.io.IOException e) {
                // Not listening yet.
            }
            assertTrue(System.nanoTime() < deadline, "prometheus not ready within 60 s");
            Thread.sleep(200);
        }
    }

    /** An instant query through {@code /api/v1/query}: the result vector. */
    private static JsonNode query(HttpClient http, String api, String promql, String time) throws Exception {
        String url = api + "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8)
                + (time == null ? "" : "&time=" + URLEncoder.encode(time, StandardCharsets.UTF_8));
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        JsonNode j = JSON.readTree(r.body());
        assertEquals("success", j.path("status").asText(), r.body());
        return j.path("data").path("result");
    }

    /** Hands each complete line written to it to a callback. */
    private static final class LineWatcher extends OutputStream {
        private final java.util.function.Consumer<String> onLine;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();

        LineWatcher(java.util.function.Consumer<String> onLine) {
            this.onLine = onLine;
        }

        @Override
        public synchronized void write(int b) {
            if (b == '\n') {
                onLine.accept(line.toString(StandardCharsets.UTF_8));
                line.reset();
            } else {
                line.write(b);
            }
        }
    }
}
