package io.ringtmp.launch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class FaultReportTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode event(String json) throws Exception {
        return JSON.readTree(json);
    }

    @Test
    void kill_detectionNextStepAndRatesFromTheNodesEvents() throws Exception {
        List<JsonNode> events = new ArrayList<>();
        for (int s = 1; s <= 10; s++) { // node 0: a step every 100 ms from t=1000 to 2000
            events.add(event("{\"event\":\"step\",\"node\":0,\"timeMs\":" + (1000 + 100 * s) + ",\"step\":" + s + "}"));
        }
        events.add(event("{\"event\":\"peer-failed\",\"node\":1,\"timeMs\":2500,\"peer\":2,\"silentMs\":400}"));
        events.add(event("{\"event\":\"peer-failed\",\"node\":3,\"timeMs\":2600,\"peer\":2,\"silentMs\":500}"));
        events.add(event("{\"event\":\"peer-failed\",\"node\":1,\"timeMs\":2550,\"peer\":0,\"silentMs\":500}")); // another node
        events.add(event("{\"event\":\"takeover\",\"node\":3,\"timeMs\":2700,\"replayedSteps\":4}"));
        for (int s = 11; s <= 15; s++) { // after the takeover, every 200 ms from 3000
            events.add(event("{\"event\":\"step\",\"node\":0,\"timeMs\":" + (2800 + 200 * (s - 10)) + ",\"step\":" + s + "}"));
        }
        Fault kill = new Fault(Fault.Kind.KILL, 2, -1, 0, 0);
        Map<String, Object> r = FaultReport.analyse(List.of(new FaultInjector.Injected(kill, 2000, 2000, null)), events, 4).get(0);
        assertEquals(500L, r.get("detectedAfterMs"));
        assertEquals(1000L, r.get("nextStepAfterMs"), "the first step after the detection, on a node that was not killed");
        assertEquals(4L, r.get("stepsReplayed"));
        assertEquals(0, r.get("referenceNode"));
        assertEquals(10.0, r.get("stepsPerSecBefore"), "9 steps in (1100, 2000]: 10 per second");
        assertEquals(1.0, r.get("stepsPerSecDuring"), "the step at 3000 ends the window (2000, 3000]");
        assertEquals(5.0, r.get("stepsPerSecAfter"));
    }

    @Test
    void shortPause_isNeverDetected_andTheNextStepComesAfterItEnds() throws Exception {
        List<JsonNode> events = List.of(
                event("{\"event\":\"step\",\"node\":0,\"timeMs\":900,\"step\":1}"),
                event("{\"event\":\"step\",\"node\":0,\"timeMs\":1000,\"step\":2}"),
                event("{\"event\":\"step\",\"node\":0,\"timeMs\":3200,\"step\":3}"),
                event("{\"event\":\"step\",\"node\":0,\"timeMs\":3300,\"step\":4}"));
        Fault stop = new Fault(Fault.Kind.STOP, 1, -1, 0, 2000);
        Map<String, Object> r = FaultReport.analyse(List.of(new FaultInjector.Injected(stop, 1000, 3000, null)), events, 3).get(0);
        assertNull(r.get("detectedAfterMs"));
        assertEquals(2200L, r.get("nextStepAfterMs"));
        assertNull(r.get("stepsReplayed"), "no failover ran");
    }
}
