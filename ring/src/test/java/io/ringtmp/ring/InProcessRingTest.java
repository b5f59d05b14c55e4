package io.ringtmp.ring;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringtmp.data.DataSources;
import io.ringtmp.nn.Parameter;
import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.TrainingOptions;
import io.ringtmp.testing.InProcessCluster;
import io.ringtmp.train.Checkpoint;
import io.ringtmp.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ring's protocol with real nodes on threads of this JVM over the in-process transport: the
 * synchronous schedules end with the single-node trainer's weights (as cli's RingIT asserts with
 * node processes), and async trains with one forward, backward and update per microbatch on
 * every stage.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class InProcessRingTest {
    private static final String MODEL = "mlp:20-24-16-12-4";
    private static final String DATA = "synthetic:blobs?n=1536&test=256&inputs=20&classes=4&seed=3";

    private static Map<String, String> options(String schedule, Path ckpt, int steps) {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("schedule", schedule);
        o.put("batch", "32");
        o.put("microbatches", "4");
        o.put("epochs", "2");
        o.put("maxSteps", Integer.toString(steps));
        o.put("seed", "5");
        o.put("profile", "estimate");
        o.put("checkpointDir", ckpt.toString());
        return o;
    }

    /** Every stage's checkpoint of {@code step}, merged: parameter name → values. */
    private static Map<String, float[]> stageWeights(Path ckpt, int stages, long step) {
        Map<String, float[]> w = new HashMap<>();
        for (int k = 0; k < stages; k++) {
            Checkpoint cp = Checkpoint.read(ckpt.resolve("stage-" + k).resolve(String.format("step-%09d.rtck", step)));
            cp.tensors().forEach((name, t) -> {
                if (!name.startsWith("optimizer.")) {
                    w.put(name, t.toArray());
                }
            });
        }
        return w;
    }

    private static float maxDiff(List<Parameter> reference, Map<String, float[]> mine) {
        assertEquals(reference.size(), mine.size(), "parameters: " + mine.keySet());
        float worst = 0;
        for (Parameter p : reference) {
            float[] a = p.value().toArray(), b = mine.get(p.name());
            assertEquals(a.length, b.length, p.name());
            for (int i = 0; i < a.length; i++) {
                worst = Math.max(worst, Math.abs(a[i] - b[i]));
            }
        }
        return worst;
    }

    @ParameterizedTest(name = "{0} on {1} stages")
    @CsvSource({"gpipe, 1", "gpipe, 2", "gpipe, 3", "gpipe, 4", "1f1b, 1", "1f1b, 2", "1f1b, 3", "1f1b, 4"})
    void synchronousSchedule_matchesSingleNodeWeightsAfter20Steps(String schedule, int k, @TempDir Path dir) throws Exception {
        Path ckpt = dir.resolve("ckpt");
        ClusterSpec spec = InProcessCluster.spec(ClusterSpec.Mode.RING, k, dir, MODEL, DATA, options(schedule, ckpt, 20));
        try (InProcessCluster ring = InProcessCluster.start(spec, RingProgram.FACTORY)) {
            assertEquals(Collections.nCopies(k, 0), ring.awaitExitCodes(60, TimeUnit.SECONDS), ring.logs());

            Trainer reference = new Trainer(TrainingOptions.config(spec), DataSources.open(DATA, dir, s -> { }));
            reference.run();
            assertEquals(20, reference.step());
            float worst = maxDiff(reference.model().parameters(), stageWeights(ckpt, k, 20));
            assertTrue(worst <= 1e-5f, schedule + " on " + k + " stages: max abs weight difference " + worst);

            long total = 0, model = 0;
            for (int i = 0; i < k; i++) {
                JsonNode st = ring.events(i, "stage").get(0);
                total += st.get("parameters").asLong();
                model = st.get("modelParameters").asLong();
                assertEquals(20, ring.events(i, "step").size(), "node " + i + " records one step line per mini-batch");
            }
            assertEquals(model, total, "the stages hold the model's parameters once between them");
        }
    }

    @Test
    void async_fourStages_lossFallsAndEveryStageDoesEachMicrobatchOnce(@TempDir Path dir) throws Exception {
        Map<String, String> o = options("async", dir.resolve("ckpt"), 0);
        o.remove("maxSteps");
        o.put("epochs", "3");
        o.put("trace", "true");
        ClusterSpec spec = InProcessCluster.spec(ClusterSpec.Mode.RING, 4, dir, MODEL, DATA, o);
        try (InProcessCluster ring = InProcessCluster.start(spec, RingProgram.FACTORY)) {
            assertEquals(List.of(0, 0, 0, 0), ring.awaitExitCodes(60, TimeUnit.SECONDS), ring.logs());
            List<JsonNode> epochs = ring.events(0, "epoch");
            assertEquals(3, epochs.size(), ring.logs());
            double first = epochs.get(0).get("trainLoss").asDouble(), lastLoss = epochs.get(2).get("trainLoss").asDouble();
            assertTrue(lastLoss < first, "train loss by epoch: " + first + " ... " + lastLoss);
            double acc = epochs.get(2).get("testAccuracy").asDouble();
            assertTrue(acc > 0.5, "test accuracy after 3 epochs (4 classes): " + acc + "\n" + ring.logs());
            // As RingIT asserts on MNIST: one forward, one backward and one update per microbatch (async).
            long microbatches = 4L * epochs.get(2).get("step").asLong();
            for (int node = 0; node < 4; node++) {
                Map<String, Long> count = traceCounts(dir.resolve("trace-node-" + node + ".json"));
                for (String op : new String[]{"forward", "backward", "update"}) {
                    assertEquals(microbatches, count.getOrDefault(op, 0L), "node " + node + " " + op + "s: " + count);
                }
                assertEquals(microbatches, ring.events(node, "stage-end").get(0).get("microbatches").asLong(), "node " + node);
            }
        }
    }

    private static Map<String, Long> traceCounts(Path trace) throws IOException {
        Map<String, Long> count = new HashMap<>();
        for (JsonNode e : new ObjectMapper().readTree(trace.toFile()).get("traceEvents")) {
            count.merge(e.get("name").asText(), 1L, Long::sum);
        }
        return count;
    }
}
