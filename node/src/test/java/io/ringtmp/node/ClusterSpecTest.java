package io.ringtmp.node;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClusterSpecTest {
    private static final String SECRET = "0123456789abcdef0123";

    private static String spec(String nodes, String extra) {
        return "{\"runId\": 7, \"secret\": \"" + SECRET + "\", \"mode\": \"linktest\"" + extra + ", \"nodes\": [" + nodes + "]}";
    }

    private static void assertRejected(String json, String fragment) {
        SpecException e = assertThrows(SpecException.class, () -> ClusterSpec.parse(json, "cluster.json"));
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
        assertTrue(e.getMessage().startsWith("cluster.json"), e.getMessage());
    }

    @Test
    void validSpec_roundTripsThroughAFile(@TempDir Path dir) throws IOException {
        ClusterSpec s = ClusterSpec.parse(spec("{\"id\":1,\"host\":\"10.0.0.2\",\"port\":7001,\"memoryBytes\":1000000,\"speed\":0.5},"
                + "{\"id\":0,\"host\":\"node-a.example\",\"port\":7000}", ", \"options\": {\"seconds\": \"1\"}"), "x");
        assertEquals(2, s.size());
        assertEquals(1, s.successor(0));
        assertEquals(0, s.successor(1));
        assertEquals(1, s.predecessor(0));
        assertEquals(0.5, s.node(1).speed());
        assertEquals("1", s.option("seconds", "2"));
        Path f = dir.resolve("c.json");
        s.write(f);
        assertEquals(s, ClusterSpec.read(f));
    }

    @Test
    void joinTimeout_defaultsToTwoMinutes_setOrRejected() {
        String one = "{\"id\":0,\"host\":\"a\",\"port\":1}";
        assertEquals(ClusterSpec.DEFAULT_JOIN_TIMEOUT_MS, ClusterSpec.parse(spec(one, ""), "x").joinTimeoutMs());
        assertEquals(30_000, ClusterSpec.parse(spec(one, ", \"joinTimeoutMs\": 30000"), "x").joinTimeoutMs());
        assertRejected(spec(one, ", \"joinTimeoutMs\": -1"), "joinTimeoutMs must be positive");
    }

    @Test
    void duplicateIds_areRejected() {
        assertRejected(spec("{\"id\":0,\"host\":\"a\",\"port\":1},{\"id\":0,\"host\":\"b\",\"port\":2}", ""), "duplicate node id 0");
    }

    @Test
    void duplicateEndpoints_areRejected() {
        assertRejected(spec("{\"id\":0,\"host\":\"127.0.0.1\",\"port\":7000},{\"id\":1,\"host\":\"127.0.0.1\",\"port\":7000}", ""),
                "nodes 0 and 1 both use 127.0.0.1:7000");
    }

    @Test
    void badHostsAndPorts_areRejected() {
        assertRejected(spec("{\"id\":0,\"host\":\"bad host!\",\"port\":7000}", ""), "'bad host!' is not a valid host name");
        assertRejected(spec("{\"id\":0,\"host\":\"300.1.1.1\",\"port\":7000}", ""), "'300.1.1.1' is not a valid host name");
        assertRejected(spec("{\"id\":0,\"host\":\"a\",\"port\":70000}", ""), "port 70000 is outside 1..65535");
    }

    @Test
    void gapsInIds_unknownModes_unknownFields_areRejected() {
        assertRejected(spec("{\"id\":0,\"host\":\"a\",\"port\":1},{\"id\":2,\"host\":\"a\",\"port\":2}", ""), "1 is missing");
        assertRejected(spec("{\"id\":0,\"host\":\"a\",\"port\":1}", "").replace("linktest", "gossip"), "unknown mode 'gossip'");
        assertRejected(spec("{\"id\":0,\"host\":\"a\",\"port\":1}", ", \"colour\": \"red\""), "unknown field 'colour'");
        assertRejected(spec("{\"id\":0,\"host\":\"a\",\"port\":1}", "").replace(SECRET, "short"), "secret of at least 16");
        assertRejected("{\"mode\": \"linktest\"", "not a valid cluster spec");
    }

    @Test
    void modelThatDoesNotFitTheData_isRejected() {
        assertRejected(spec("{\"id\":0,\"host\":\"a\",\"port\":1}", ", \"model\": \"mlp:100-10\", \"data\": \"mnist\""),
                "takes 100 inputs");
        assertRejected(spec("{\"id\":0,\"host\":\"a\",\"port\":1}",
                ", \"model\": \"mlp:784-10\", \"data\": \"synthetic:blobs?inputs=784&classes=3\""), "3 classes");
    }

    @Test
    void localSpec_hasConsecutivePorts() {
        ClusterSpec s = ClusterSpec.local(3, 47000, ClusterSpec.Mode.LINKTEST, Map.of(), SECRET, 1);
        assertEquals(47002, s.node(2).port());
        assertEquals("127.0.0.1:47001", s.node(1).address());
    }
}
