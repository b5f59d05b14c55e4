package io.ringtmp.node;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.ringtmp.train.JsonLines;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One node's metrics: JSON lines in {@code metricsDir/node-<id>.jsonl} (one {@code step} line per
 * step, plus {@code event} lines) and a Micrometer registry, optionally served for Prometheus.
 * The fields are defined in docs/metrics.md, the same in every mode, so that idle time means
 * the same thing everywhere. Thread-safe: lines are written under a lock.
 */
public final class NodeMetrics implements AutoCloseable {

    /**
     * One step of one node.
     *
     * @param step            step (mini-batch) number
     * @param computeNs       time spent computing (forward, backward, update)
     * @param idleNs          time spent waiting for a neighbour, server or barrier with nothing to compute
     * @param sendNs          time the compute thread spent handing messages to the transport (encoding, back-pressure)
     * @param recvNs          time spent decoding received messages on the compute thread
     * @param wallNs          wall time of the step
     * @param bytesSent       bytes sent to each peer during the step
     * @param bytesReceived   bytes received from each peer during the step
     * @param parameterBytes  bytes of parameters this node holds
     * @param activationBytes bytes of activations held at the step's peak
     * @param loss            the step's loss where this node computes it, else NaN
     * @param transferNs      summed time from handing each tensor message to the transport until
     *                        it was on the wire (the ring's T), 0 where not measured
     * @param microbatches    microbatches this node processed in the step (0 where not applicable)
     */
    public record Step(long step, long computeNs, long idleNs, long sendNs, long recvNs, long wallNs,
                       Map<Integer, Long> bytesSent, Map<Integer, Long> bytesReceived, long parameterBytes,
                       long activationBytes, double loss, long transferNs, int microbatches) {
        /** A step without microbatches or transfer times (link test, parameter server). */
        public Step(long step, long computeNs, long idleNs, long sendNs, long recvNs, long wallNs,
                    Map<Integer, Long> bytesSent, Map<Integer, Long> bytesReceived, long parameterBytes,
                    long activationBytes, double loss) {
            this(step, computeNs, idleNs, sendNs, recvNs, wallNs, bytesSent, bytesReceived, parameterBytes, activationBytes,
                    loss, 0, 0);
        }
    }

    private final int nodeId;
    private final Path file;
    private final JsonLines out;
    private final Time time;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Timer compute;
    private final Timer idle;
    private final Timer send;
    private final Timer recv;
    private final Timer wall;
    private HttpServer http;

    public NodeMetrics(int nodeId, Path dir, Time time) {
        this(nodeId, dir, time, -1);
    }

    /**
     * Metrics of run {@code runId}: the file starts with a {@code run} line naming it, and a node
     * restarted in the same run (it rejoins after it was failed over) adds to its file after a
     * {@code restart} line instead of losing what it wrote before. A file of another run is replaced.
     */
    public NodeMetrics(int nodeId, Path dir, Time time, long runId) {
        this.nodeId = nodeId;
        this.time = time;
        this.file = dir.resolve("node-" + nodeId + ".jsonl");
        boolean again = runId >= 0 && sameRun(file, runId);
        this.out = new JsonLines(file, "node " + nodeId, again);
        if (runId >= 0) {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("runId", runId);
            event(again ? "restart" : "run", f);
        }
        registry.config().commonTags("node", Integer.toString(nodeId));
        compute = Timer.builder("ringtmp.compute").description("time computing").register(registry);
        idle = Timer.builder("ringtmp.idle").description("time waiting with nothing to compute").register(registry);
        send = Timer.builder("ringtmp.send").description("compute-thread time handing messages to the transport").register(registry);
        recv = Timer.builder("ringtmp.recv").description("compute-thread time taking messages from the transport").register(registry);
        // Idle fraction over any window, as the step lines give it: increase(ringtmp_idle_seconds_sum) / increase(ringtmp_wall_seconds_sum).
        wall = Timer.builder("ringtmp.wall").description("wall time of each step (idle + compute + send + recv + the rest)").register(registry);
    }

    /** Whether {@code file} begins with the {@code run} line of run {@code runId}. */
    private static boolean sameRun(Path file, long runId) {
        try (java.io.BufferedReader r = java.nio.file.Files.newBufferedReader(file, java.nio.charset.StandardCharsets.UTF_8)) {
            String first = r.readLine();
            return first != null && first.startsWith("{\"event\":\"run\"")
                    && (first.contains("\"runId\":" + runId + ",") || first.contains("\"runId\":" + runId + "}"));
        } catch (java.io.IOException e) {
            return false; // none yet, or unreadable: start it afresh
        }
    }

    public Path file() {
        return file;
    }

    /** Held while a step's timers are recorded and while a scrape reads them. */
    private final Object stepLock = new Object();

    public MeterRegistry registry() {
        return registry;
    }

    /** Serves {@code /metrics} in Prometheus text format on {@code port} (0 picks a free one); returns the port. */
    public synchronized int servePrometheus(String host, int port) {
        try {
            http = HttpServer.create(new InetSocketAddress(host, port), 0);
        } catch (IOException e) {
            throw new UncheckedIOException("node " + nodeId + ": cannot serve metrics on " + host + ":" + port + ": " + e.getMessage(), e);
        }
        http.createContext("/metrics", ex -> {
            byte[] body;
            synchronized (stepLock) { // a scrape sees whole steps: never one step's idle without its wall time
                body = registry.scrape().getBytes(StandardCharsets.UTF_8);
            }
            ex.getResponseHeaders().add("Content-Type", "text/plain; version=0.0.4");
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream os = ex.getResponseBody()) {
                os.write(body);
            }
        });
        http.start();
        return http.getAddress().getPort();
    }

    /** Records one step. */
    public void step(Step s) {
        synchronized (stepLock) {
            compute.record(s.computeNs(), TimeUnit.NANOSECONDS);
            idle.record(s.idleNs(), TimeUnit.NANOSECONDS);
            send.record(s.sendNs(), TimeUnit.NANOSECONDS);
            recv.record(s.recvNs(), TimeUnit.NANOSECONDS);
            wall.record(s.wallNs(), TimeUnit.NANOSECONDS);
        }
        s.bytesSent().forEach((peer, b) -> Counter.builder("ringtmp.bytes.sent").tag("peer", peer.toString()).register(registry).increment(b));
        s.bytesReceived().forEach((peer, b) -> Counter.builder("ringtmp.bytes.received").tag("peer", peer.toString()).register(registry).increment(b));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("event", "step");
        m.put("node", nodeId);
        m.put("timeMs", time.currentTimeMillis());
        m.put("step", s.step());
        m.put("computeMs", s.computeNs() / 1e6);
        m.put("idleMs", s.idleNs() / 1e6);
        m.put("sendMs", s.sendNs() / 1e6);
        m.put("recvMs", s.recvNs() / 1e6);
        m.put("wallMs", s.wallNs() / 1e6);
        m.put("bytesSent", s.bytesSent());
        m.put("bytesReceived", s.bytesReceived());
        m.put("parameterBytes", s.parameterBytes());
        m.put("activationBytes", s.activationBytes());
        if (!Double.isNaN(s.loss())) {
            m.put("loss", s.loss());
        }
        if (s.microbatches() > 0) {
            m.put("microbatches", s.microbatches());
            m.put("transferMs", s.transferNs() / 1e6);
        }
        write(m, false);
    }

    /**
     * Records the {@code training} event, written once by the node that reports epochs (ring
     * node 0, parameter-server worker 0) before its first step: what a progress view needs.
     */
    public void training(int epochs, long stepsPerEpoch, long startStep, long totalSteps) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("epochs", epochs);
        f.put("stepsPerEpoch", stepsPerEpoch);
        f.put("startStep", startStep);
        f.put("totalSteps", totalSteps);
        event("training", f);
    }

    /** Records an event line, e.g. {@code peer-failed} or a link-test result; flushed at once. */
    public void event(String name, Map<String, ?> fields) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("event", name);
        m.put("node", nodeId);
        m.put("timeMs", time.currentTimeMillis());
        m.putAll(fields);
        write(m, true);
    }

    private void write(Map<String, Object> m, boolean flush) {
        out.write(m, flush);
    }

    @Override
    public synchronized void close() {
        out.close();
        if (http != null) {
            http.stop(0);
        }
        registry.close();
    }
}
