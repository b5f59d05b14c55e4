package io.ringtmp.node;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import io.ringtmp.data.SyntheticSpec;
import io.ringtmp.nn.ModelSpec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What every node of a run reads: the nodes (ids, addresses, optional memory budgets and speed
 * hints), the mode and its options, the model and data, the shared secret and the timing of
 * heartbeats. One file for the whole cluster; {@code ringtmp node --spec FILE --id N} starts
 * node N of it. See docs/cluster-spec.md for the format.
 *
 * @param runId            identifies the run on the wire; messages of another run are refused
 * @param secret           shared secret for the HMAC handshake between nodes (at least 16 characters)
 * @param mode             what the nodes do ({@link Mode})
 * @param options          mode options (strings), e.g. linktest's {@code sizes} and {@code seconds}
 * @param model            model description (shorthand or JSON path), where the mode trains
 * @param data             data source, where the mode trains
 * @param heartbeatMs      interval between heartbeats to each neighbour
 * @param failureTimeoutMs silence after which a neighbour is declared failed
 * @param metricsDir       where each node writes its metrics (relative to the working directory)
 * @param nodes            the nodes, in ring order of their ids
 * @param joinTimeoutMs    how long a starting node keeps trying to reach each neighbour (0: the
 *                         default, {@value #DEFAULT_JOIN_TIMEOUT_MS} ms): the nodes of a cluster
 *                         are started one by one, by hand or by a scheduler, in any order
 * @param tls              where the cluster CA and the node certificates are ({@link TlsSpec});
 *                         null: plaintext links, authenticated by the shared secret only
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ClusterSpec(long runId, String secret, Mode mode, Map<String, String> options, String model, String data,
                          int heartbeatMs, int failureTimeoutMs, String metricsDir, List<NodeSpec> nodes, int joinTimeoutMs,
                          TlsSpec tls) {
    /** Two minutes: starting a node on each machine by hand, or a slow device's JVM, fits in it. */
    public static final int DEFAULT_JOIN_TIMEOUT_MS = 120_000;

    /** What a cluster can do. */
    public enum Mode {
        /** Every node streams tensors to its successor and reports MB/s and latency per link. */
        LINKTEST,
        /** RingTMP: the model's layers cut into one stage per node, pipelined around the ring. */
        RING,
        /** Parameter server: server shards and data-parallel workers. */
        PS;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Mode parse(String s) {
            for (Mode m : values()) {
                if (m.id().equalsIgnoreCase(s)) {
                    return m;
                }
            }
            throw new SpecException("unknown mode '" + s + "' (known: " + String.join(", ",
                    java.util.Arrays.stream(values()).map(Mode::id).toList()) + ")");
        }

        @com.fasterxml.jackson.annotation.JsonValue
        public String json() {
            return id();
        }

        @com.fasterxml.jackson.annotation.JsonCreator
        public static Mode fromJson(String s) {
            return parse(s);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(SerializationFeature.INDENT_OUTPUT);
    // RFC 1123 host names, or IPv4/IPv6 literals.
    private static final Pattern HOST = Pattern.compile(
            "^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\\.?$");
    private static final Pattern IPV4 = Pattern.compile("^(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})$");

    public ClusterSpec {
        options = options == null ? Map.of() : Map.copyOf(options);
        nodes = nodes == null ? List.of() : List.copyOf(nodes);
        if (heartbeatMs == 0) {
            heartbeatMs = 500;
        }
        if (failureTimeoutMs == 0) {
            failureTimeoutMs = 5000;
        }
        if (joinTimeoutMs == 0) {
            joinTimeoutMs = DEFAULT_JOIN_TIMEOUT_MS;
        }
        if (joinTimeoutMs < 0) {
            throw new SpecException("joinTimeoutMs must be positive (0: the default " + DEFAULT_JOIN_TIMEOUT_MS + " ms), got " + joinTimeoutMs);
        }
        if (metricsDir == null) {
            metricsDir = "runs/" + Long.toHexString(runId);
        }
        validate(runId, secret, mode, nodes, heartbeatMs, failureTimeoutMs);
        if (mode != Mode.LINKTEST && (model == null || data == null)) {
            throw new SpecException("mode " + mode.id() + " trains: the spec needs a model and data");
        }
        checkModelFitsData(model, data);
    }

    /** A spec with the default join timeout, without TLS. */
    public ClusterSpec(long runId, String secret, Mode mode, Map<String, String> options, String model, String data,
                       int heartbeatMs, int failureTimeoutMs, String metricsDir, List<NodeSpec> nodes) {
        this(runId, secret, mode, options, model, data, heartbeatMs, failureTimeoutMs, metricsDir, nodes, 0);
    }

    /** A spec without TLS. */
    public ClusterSpec(long runId, String secret, Mode mode, Map<String, String> options, String model, String data,
                       int heartbeatMs, int failureTimeoutMs, String metricsDir, List<NodeSpec> nodes, int joinTimeoutMs) {
        this(runId, secret, mode, options, model, data, heartbeatMs, failureTimeoutMs, metricsDir, nodes, joinTimeoutMs, null);
    }

    /** The same spec with TLS under {@code newTls} (null: plaintext). */
    public ClusterSpec withTls(TlsSpec newTls) {
        return new ClusterSpec(runId, secret, mode, options, model, data, heartbeatMs, failureTimeoutMs, metricsDir, nodes, joinTimeoutMs,
                newTls);
    }

    /** A model whose input or output width does not match the data is refused before any node starts. */
    private static void checkModelFitsData(String model, String data) {
        if (model == null) {
            return;
        }
        ModelSpec m;
        try {
            m = ModelSpec.parse(model);
        } catch (IllegalArgumentException e) {
            throw new SpecException("model: " + e.getMessage());
        }
        if (data == null) {
            return;
        }
        int inputs, classes;
        if (data.equals("mnist")) {
            inputs = 784;
            classes = 10;
        } else if (SyntheticSpec.isSynthetic(data)) {
            SyntheticSpec s;
            try {
                s = SyntheticSpec.parse(data);
            } catch (RuntimeException e) {
                throw new SpecException("data: " + e.getMessage());
            }
            inputs = s.inputs();
            classes = s.classes();
        } else {
            return; // A directory: its shapes are checked when the node loads it.
        }
        if (m.input() != inputs || m.outputSize() != classes) {
            throw new SpecException("model " + model + " takes " + m.input() + " inputs and gives " + m.outputSize()
                    + " outputs, but data " + data + " has " + inputs + " features and " + classes + " classes");
        }
    }

    private static void validate(long runId, String secret, Mode mode, List<NodeSpec> nodes, int heartbeatMs,
                                 int failureTimeoutMs) {
        if (mode == null) {
            throw new SpecException("spec has no mode (known: linktest, ring, ps)");
        }
        if (secret == null || secret.length() < 16) {
            throw new SpecException("spec needs a secret of at least 16 characters (shared by the nodes for authentication)");
        }
        if (nodes.isEmpty()) {
            throw new SpecException("spec lists no nodes");
        }
        if (heartbeatMs < 1 || failureTimeoutMs <= heartbeatMs) {
            throw new SpecException("failureTimeoutMs (" + failureTimeoutMs + ") must exceed heartbeatMs (" + heartbeatMs + ") and both be positive");
        }
        Set<Integer> ids = new HashSet<>();
        Map<String, Integer> endpoints = new HashMap<>();
        for (NodeSpec n : nodes) {
            if (!ids.add(n.id())) {
                throw new SpecException("duplicate node id " + n.id());
            }
            if (n.host() == null || n.host().isBlank()) {
                throw new SpecException("node " + n.id() + " has no host");
            }
            if (!validHost(n.host())) {
                throw new SpecException("node " + n.id() + ": '" + n.host() + "' is not a valid host name or IP address");
            }
            if (n.port() < 1 || n.port() > 65535) {
                throw new SpecException("node " + n.id() + ": port " + n.port() + " is outside 1..65535");
            }
            Integer other = endpoints.putIfAbsent(n.host().toLowerCase(Locale.ROOT) + ":" + n.port(), n.id());
            if (other != null) {
                throw new SpecException("nodes " + other + " and " + n.id() + " both use " + n.address());
            }
            if (n.memoryBytes() != null && n.memoryBytes() <= 0) {
                throw new SpecException("node " + n.id() + ": memoryBytes must be positive, got " + n.memoryBytes());
            }
            if (n.speed() != null && !(n.speed() > 0)) {
                throw new SpecException("node " + n.id() + ": speed must be positive, got " + n.speed());
            }
        }
        for (int i = 0; i < nodes.size(); i++) {
            if (!ids.contains(i)) {
                throw new SpecException("node ids must be 0.." + (nodes.size() - 1) + " (ring order); " + i + " is missing");
            }
        }
    }

    static boolean validHost(String h) {
        if (h.contains(":")) {
            try {
                return java.net.InetAddress.getByName(h) instanceof java.net.Inet6Address;
            } catch (IOException e) {
                return false;
            }
        }
        var m = IPV4.matcher(h);
        if (m.matches()) {
            for (int g = 1; g <= 4; g++) {
                if (Integer.parseInt(m.group(g)) > 255) {
                    return false;
                }
            }
            return true;
        }
        return HOST.matcher(h).matches() && !h.matches("^[0-9.]+$");
    }

    /** Reads and validates a spec file. */
    public static ClusterSpec read(Path file) {
        try {
            return parse(Files.readString(file, StandardCharsets.UTF_8), file.toString());
        } catch (NoSuchFileException e) {
            throw new SpecException("no cluster spec at " + file);
        } catch (IOException e) {
            throw new SpecException("cannot read cluster spec " + file + ": " + e.getMessage(), e);
        }
    }

    /** Parses and validates spec JSON; {@code source} names it in errors. */
    public static ClusterSpec parse(String json, String source) {
        try {
            return JSON.readValue(json, ClusterSpec.class);
        } catch (UnrecognizedPropertyException e) {
            StringBuilder field = new StringBuilder();
            for (var ref : e.getPath()) {
                if (ref.getFieldName() != null) {
                    field.append(field.isEmpty() ? "" : ".").append(ref.getFieldName());
                }
            }
            throw new SpecException(source + ": unknown field '" + (field.isEmpty() ? e.getPropertyName() : field) + "'");
        } catch (JsonProcessingException e) {
            Throwable c = e.getCause();
            if (c instanceof SpecException se) {
                throw new SpecException(source + ": " + se.getMessage());
            }
            throw new SpecException(source + ": not a valid cluster spec: " + e.getOriginalMessage());
        }
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes the spec (readable by its owner only: it holds the secret). */
    public void write(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Files.writeString(file, toJson(), StandardCharsets.UTF_8);
        try {
            Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        } catch (UnsupportedOperationException ignored) {
            // Not a POSIX file system: nothing to tighten.
        }
    }

    public int size() {
        return nodes.size();
    }

    /** Whether the spec has a node with this id. */
    public boolean hasNode(int id) {
        return nodes.stream().anyMatch(n -> n.id() == id);
    }

    public NodeSpec node(int id) {
        for (NodeSpec n : nodes) {
            if (n.id() == id) {
                return n;
            }
        }
        throw new SpecException("node id " + id + " is not in the spec (ids 0.." + (nodes.size() - 1) + ")");
    }

    /** The next node in the ring. */
    public int successor(int id) {
        return (id + 1) % nodes.size();
    }

    /** The previous node in the ring. */
    public int predecessor(int id) {
        return (id - 1 + nodes.size()) % nodes.size();
    }

    public String option(String key, String dflt) {
        return options.getOrDefault(key, dflt);
    }

    /** A spec of {@code n} nodes on 127.0.0.1 from {@code basePort} on. */
    public static ClusterSpec local(int n, int basePort, Mode mode, Map<String, String> options, String secret, long runId) {
        List<NodeSpec> ns = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            ns.add(NodeSpec.of(i, "127.0.0.1", basePort + i));
        }
        return new ClusterSpec(runId, secret, mode, new LinkedHashMap<>(options), null, null, 0, 0, null, ns);
    }
}
