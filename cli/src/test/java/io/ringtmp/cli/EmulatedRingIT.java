package io.ringtmp.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.ringtmp.launch.EmulationConfig;
import io.ringtmp.launch.EmulationException;
import io.ringtmp.launch.Launcher;
import io.ringtmp.node.ClusterSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.abort;

/**
 * The ring on emulated devices of different speeds ({@code launch --emulate --node-cpu a,b,c}):
 * every node times its layers under its own CPU quota at start-up ({@code --profile measure},
 * the default), and the partitioner gives a slower node a lighter stage. The model has six equal
 * 512×512 layers (and a 512×10 head): on three equal devices the only cut with the slowest stage
 * at two layers is two each; with node 0 at a third of the others' speed, one layer on node 0
 * costs it as much as three on the others, so node 0 gets one. Needs root (network namespaces,
 * cgroup v1 cpu controller); aborted, saying why, elsewhere.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class EmulatedRingIT {
    private static final String MODEL = "mlp:512-512-512-512-512-512-512-10";
    private static final String DATA = "synthetic:teacher?n=2048&test=256&inputs=512&classes=10&seed=1";
    private static final long LAYER = 512L * 512 + 512;
    private static final long HEAD = 512L * 10 + 10;

    /** Runs the ring under {@code cpus} and returns each node's parameter count from its {@code stage} event. */
    private static List<Long> stageParameters(Path dir, List<Double> cpus) throws Exception {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("schedule", "1f1b");
        o.put("batch", "64");
        o.put("microbatches", "4");
        o.put("epochs", "1");
        o.put("maxSteps", "3");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Launcher.Run launched;
        try (PrintStream p = new PrintStream(out, true, StandardCharsets.UTF_8)) {
            launched = Launcher.launch(new Launcher.Options(cpus.size(), ClusterSpec.Mode.RING, o, MODEL, DATA, dir,
                    LaunchCommand.nodeCommand(), new EmulationConfig(cpus.size(), 0, cpus, 0), 200, 10_000, false), p);
        } catch (EmulationException e) {
            abort("no emulated cluster here: " + e.getMessage());
            throw e;
        }
        String printed = out.toString(StandardCharsets.UTF_8);
        assertEquals(0, launched.exitCode(), printed);
        Path run = launched.dir();
        List<Long> params = new ArrayList<>();
        for (int node = 0; node < cpus.size(); node++) {
            JsonNode stage = NodeProcesses.events(run, node, "stage").get(0);
            params.add(stage.get("parameters").asLong());
        }
        System.out.println("node-cpu " + cpus + ": parameters per stage " + params);
        return params;
    }

    @Test
    void equalDevices_equalStages(@TempDir Path dir) throws Exception {
        assertEquals(List.of(2 * LAYER, 2 * LAYER, 2 * LAYER + HEAD), stageParameters(dir, List.of(0.5, 0.5, 0.5)));
    }

    @Test
    void slowerDevice_getsALighterStage(@TempDir Path dir) throws Exception {
        List<Long> params = stageParameters(dir, List.of(0.2, 0.6, 0.6));
        assertEquals(LAYER, params.get(0), "node 0 (a third of the others' CPU) holds one layer: " + params);
        assertEquals(6 * LAYER + HEAD, params.stream().mapToLong(Long::longValue).sum(), "every parameter once: " + params);
    }
}
