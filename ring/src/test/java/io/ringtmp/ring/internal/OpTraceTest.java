package io.ringtmp.ring.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OpTraceTest {
    @Test
    void writesAChromeTraceWithOneCompleteEventPerOperation(@TempDir Path dir) throws Exception {
        long origin = 1_000_000_000L;
        OpTrace t = new OpTrace(origin);
        t.add(OpTrace.Op.FORWARD, 9, origin + 2_000_000, origin + 5_500_000);
        t.add(OpTrace.Op.IDLE_SLOTS_FULL, -1, origin + 5_500_000, origin + 6_000_000);
        for (int i = 0; i < 5000; i++) { // grows past its first buffer
            t.add(OpTrace.Op.UPDATE, i, origin + 6_000_000 + i, origin + 6_000_001 + i);
        }
        assertEquals(5002, t.size());
        Path f = dir.resolve("trace-node-2.json");
        t.write(f, 2, "stage 2", 4);
        assertFalse(Files.exists(dir.resolve("trace-node-2.json.tmp")));
        JsonNode events = new ObjectMapper().readTree(f.toFile()).get("traceEvents");
        assertEquals(5003, events.size(), "a process name and every operation");
        assertEquals("process_name", events.get(0).get("name").asText());
        assertEquals("stage 2", events.get(0).get("args").get("name").asText());
        JsonNode fwd = events.get(1);
        assertEquals("forward", fwd.get("name").asText());
        assertEquals("X", fwd.get("ph").asText());
        assertEquals(2, fwd.get("pid").asInt());
        assertEquals(3500.0, fwd.get("dur").asDouble(), 1e-9, "microseconds");
        assertEquals(2, fwd.get("args").get("step").asInt(), "microbatch 9 with M = 4 is step 2, index 1");
        assertEquals(1, fwd.get("args").get("index").asInt());
        JsonNode idle = events.get(2);
        assertEquals("idle: every slot taken", idle.get("name").asText());
        assertFalse(idle.has("args"), "an idle wait is of no microbatch");
        assertEquals(3500.0, idle.get("ts").asDouble() - fwd.get("ts").asDouble(), 1e-3, "on one time line");
        long nowMicros = System.currentTimeMillis() * 1000;
        assertTrue(Math.abs(fwd.get("ts").asDouble() - nowMicros) < 60e6, "wall-clock microseconds: " + fwd.get("ts"));
    }
}
