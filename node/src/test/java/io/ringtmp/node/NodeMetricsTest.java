package io.ringtmp.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NodeMetricsTest {
    @Test
    void stepsAndEvents_areJsonLines_andPrometheusServesTheTimers(@TempDir Path dir) throws Exception {
        FakeTime time = new FakeTime();
        String scrape;
        try (NodeMetrics m = new NodeMetrics(3, dir, time)) {
            m.step(new NodeMetrics.Step(7, 4_000_000, 1_000_000, 200_000, 100_000, 5_500_000, Map.of(4, 1024L),
                    Map.of(2, 2048L), 1 << 20, 1 << 16, 0.25));
            m.event("peer-failed", Map.of("peer", 4, "silentMs", 5100));
            int port = m.servePrometheus("127.0.0.1", 0);
            HttpResponse<String> r = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            scrape = r.body();
        }
        assertTrue(scrape.contains("ringtmp_idle_seconds_sum{node=\"3\"}"), scrape);
        assertTrue(scrape.contains("ringtmp_bytes_sent_total{node=\"3\",peer=\"4\"} 1024"), scrape);
        ObjectMapper json = new ObjectMapper();
        List<String> lines = Files.readAllLines(dir.resolve("node-3.jsonl"));
        assertEquals(2, lines.size());
        JsonNode step = json.readTree(lines.get(0));
        assertEquals("step", step.get("event").asText());
        assertEquals(4.0, step.get("computeMs").asDouble());
        assertEquals(1.0, step.get("idleMs").asDouble());
        assertEquals(1024, step.get("bytesSent").get("4").asLong());
        assertEquals(0.25, step.get("loss").asDouble());
        JsonNode ev = json.readTree(lines.get(1));
        assertEquals("peer-failed", ev.get("event").asText());
        assertEquals(5100, ev.get("silentMs").asLong());
    }
}
