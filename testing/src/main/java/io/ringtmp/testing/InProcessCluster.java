package io.ringtmp.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.Node;
import io.ringtmp.node.NodeProgram;
import io.ringtmp.node.NodeSpec;
import io.ringtmp.node.Time;
import io.ringtmp.transport.InProcessNetwork;
import io.ringtmp.transport.InProcessTransport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Every node of a spec as a real {@link Node} in this JVM, over one {@link InProcessNetwork}: the
 * nodes' programs, heartbeats, failure detectors, metrics files and protocol are the real ones,
 * only the sockets are not. Each node runs on its own thread ({@code node-<id>}, since
 * {@link Node#run()} blocks) and prints to a buffer of its own ({@link #logs()}).
 *
 * <p>Threads: one test thread calls {@link #start}, {@link #awaitExitCodes} and {@link #close};
 * {@code close} stops nodes still running, closes every node (and so its transport) and checks,
 * bounded, that no node or in-process delivery thread is left (test classes of a module run one
 * after another, so any such thread is this cluster's).
 *
 * <pre>{@code
 * ClusterSpec spec = InProcessCluster.spec(ClusterSpec.Mode.RING, 3, dir, "mlp:20-24-16-12-4", data, options);
 * try (InProcessCluster c = InProcessCluster.start(spec, RingProgram.FACTORY)) {
 *     assertEquals(List.of(0, 0, 0), c.awaitExitCodes(60, TimeUnit.SECONDS), c.logs());
 * }
 * }</pre>
 */
public final class InProcessCluster implements AutoCloseable {
    /** The exit code reported for a node whose program threw (the CLI exits 1; the stack trace is in its log). */
    public static final int THREW = -1;
    public static final String SECRET = "in-process-cluster-secret-0123";
    /** Heartbeats as in the multi-process tests; a failure timeout that a loaded machine's pauses do not reach. */
    public static final int HEARTBEAT_MS = 200;
    public static final int FAILURE_TIMEOUT_MS = 30_000;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ClusterSpec spec;
    private final List<Node> nodes = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final List<ByteArrayOutputStream> out = new ArrayList<>();
    private final Integer[] codes;
    private final InProcessNetwork network = new InProcessNetwork();
    private final NodeProgram.Factory programs;

    private InProcessCluster(ClusterSpec spec, NodeProgram.Factory programs) {
        this.spec = spec;
        this.programs = programs;
        this.codes = new Integer[spec.size()];
    }

    /** A spec of {@code nodes} nodes at 127.0.0.1:7000+id on the in-process network, metrics in {@code metricsDir}. */
    public static ClusterSpec spec(ClusterSpec.Mode mode, int nodes, Path metricsDir, String model, String data,
                                   Map<String, String> options) {
        return spec(mode, nodes, metricsDir, model, data, options, FAILURE_TIMEOUT_MS);
    }

    /** As {@link #spec(ClusterSpec.Mode, int, Path, String, String, Map)}, with a failure timeout of {@code failureTimeoutMs} (fault tests). */
    public static ClusterSpec spec(ClusterSpec.Mode mode, int nodes, Path metricsDir, String model, String data,
                                   Map<String, String> options, int failureTimeoutMs) {
        List<NodeSpec> ns = new ArrayList<>();
        for (int i = 0; i < nodes; i++) {
            ns.add(NodeSpec.of(i, "127.0.0.1", 7000 + i));
        }
        return new ClusterSpec(4343, SECRET, mode, options, model, data, HEARTBEAT_MS, failureTimeoutMs, metricsDir.toString(),
                ns, 20_000);
    }

    /** Creates every node of {@code spec} with {@code programs} and starts each one's {@code run()} on its thread. */
    public static InProcessCluster start(ClusterSpec spec, NodeProgram.Factory programs) {
        InProcessCluster c = new InProcessCluster(spec, programs);
        for (int id = 0; id < spec.size(); id++) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            PrintStream log = new PrintStream(bytes, true, StandardCharsets.UTF_8);
            Node n = new Node(spec, id, Time.SYSTEM, log, programs, c.network.transports());
            c.out.add(bytes);
            c.nodes.add(n);
            int i = id;
            c.threads.add(new Thread(() -> c.codes[i] = runNode(n, log), "node-" + id));
        }
        c.threads.forEach(Thread::start);
        return c;
    }

    private static int runNode(Node n, PrintStream log) {
        try {
            return n.run();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            e.printStackTrace(log);
            return THREW;
        } catch (RuntimeException | Error e) {
            e.printStackTrace(log);
            return THREW;
        } finally {
            n.close();
        }
    }

    /**
     * Waits until every node ended and returns their exit codes by id ({@link #THREW} for a node
     * whose program threw).
     *
     * @throws AssertionError when a node is still running after {@code timeout}, with every log
     */
    public List<Integer> awaitExitCodes(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        for (Thread t : threads) {
            t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            if (t.isAlive()) {
                throw new AssertionError(t.getName() + " did not finish in " + unit.toSeconds(timeout) + " s:\n" + logs());
            }
        }
        return List.of(codes);
    }

    /**
     * Kills node {@code id} as SIGKILL would a process: its transport closes at once (its
     * links break, no goodbye is sent), its heartbeats stop and its thread is interrupted.
     */
    public void kill(int id) {
        nodes.get(id).close();
        threads.get(id).interrupt();
    }

    /**
     * Starts node {@code id} afresh, as a process restarted with its id would be, after
     * {@link #kill} (or after it ended): a new node on the same network, logging on after the old
     * one's lines; {@link #awaitExitCodes} then reports the new node's exit code.
     */
    public void restart(int id) throws InterruptedException {
        Thread old = threads.get(id);
        old.join(TimeUnit.SECONDS.toMillis(30));
        if (old.isAlive()) {
            throw new AssertionError("node " + id + " is still running:\n" + logs());
        }
        PrintStream log = new PrintStream(out.get(id), true, StandardCharsets.UTF_8);
        log.println("---- restarted ----");
        Node n = new Node(spec, id, Time.SYSTEM, log, programs, network.transports());
        nodes.set(id, n);
        codes[id] = null;
        Thread t = new Thread(() -> codes[id] = runNode(n, log), "node-" + id);
        threads.set(id, t);
        t.start();
    }

    /** Every node's output, each line prefixed with its node. */
    public String logs() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < out.size(); i++) {
            for (String line : out.get(i).toString(StandardCharsets.UTF_8).split("\n")) {
                sb.append("[node ").append(i).append("] ").append(line).append('\n');
            }
        }
        return sb.toString();
    }

    /** The {@code event} lines of node {@code node}'s metrics file (none when it is absent). */
    public List<JsonNode> events(int node, String event) {
        Path f = Path.of(spec.metricsDir()).resolve("node-" + node + ".jsonl");
        List<JsonNode> found = new ArrayList<>();
        try {
            if (!Files.exists(f)) {
                return found;
            }
            String text = Files.readString(f, StandardCharsets.UTF_8);
            // only whole lines: a running node may be half-way through writing the last one
            for (String line : text.substring(0, text.lastIndexOf('\n') + 1).lines().toList()) {
                JsonNode j = JSON.readTree(line);
                if (j.path("event").asText().equals(event)) {
                    found.add(j);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return found;
    }

    /**
     * Stops the nodes still running, waits for their threads and closes every node; then checks
     * that no node thread or in-process delivery thread is left.
     *
     * @throws AssertionError when threads are left after 10 s
     */
    @Override
    public void close() {
        try {
            stopAndCheck();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while closing the cluster", e);
        }
    }

    private void stopAndCheck() throws InterruptedException {
        nodes.forEach(n -> n.requestStop("the test ended"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (Thread t : threads) {
            t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
        }
        for (int i = 0; i < nodes.size(); i++) {
            if (threads.get(i).isAlive()) {
                nodes.get(i).close(); // breaks its links, so that its thread ends
            }
        }
        List<String> left = new ArrayList<>();
        while (true) {
            left.clear();
            threads.stream().filter(Thread::isAlive).forEach(t -> left.add(t.getName()));
            Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.isAlive() && t.getName().startsWith(InProcessTransport.THREAD_PREFIX))
                    .forEach(t -> left.add(t.getName()));
            if (left.isEmpty()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("threads left after the cluster closed: " + left + "\n" + logs());
            }
            Thread.sleep(10);
        }
    }
}
