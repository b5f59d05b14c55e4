package io.ringtmp.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.ringtmp.data.DataSources;
import io.ringtmp.data.FetchException;
import io.ringtmp.node.ClusterSpec;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.abort;

/**
 * W1 (784-512-512-10, Nesterov SGD lr 0.05 with a cosine decay, momentum 0.9, batch 128) on real MNIST with 4
 * workers reaches 97.0% test accuracy in 3 epochs under asp and ssp, as the single-node trainer does. Nesterov, not
 * heavy-ball momentum: asp's pushes arrive about one update late, and at lr 0.05 with momentum 0.9 that delay leaves
 * heavy-ball near its stability edge (0.9694-0.9724 after 3 epochs over four runs, lr 0.1 reached only 0.939), while
 * Nesterov's look-ahead gave 0.9762-0.9769 (docs/parameter-server.md). Real node
 * processes on loopback; about 20-30 s each on 2 cores. MNIST is fetched into datasets/ at the
 * repository root first (skipped, saying why, only where it cannot be fetched).
 */
@Tag("mnist")
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ParameterServerMnistIT {
    private static final Path DATA_DIR = Path.of("..", "datasets").toAbsolutePath().normalize();

    @BeforeAll
    static void mnist() {
        try {
            DataSources.open("mnist", DATA_DIR, msg -> { });
        } catch (FetchException e) {
            abort("MNIST not available: " + e.getMessage());
        }
    }

    private static double finalAccuracy(Path dir, int servers, String consistency, String staleness) throws Exception {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("servers", Integer.toString(servers));
        o.put("consistency", consistency);
        if (staleness != null) {
            o.put("staleness", staleness);
        }
        o.put("epochs", "3");
        o.put("batch", "128");
        o.put("lr", "0.05");
        o.put("optimizer", "nesterov");
        o.put("momentum", "0.9");
        o.put("lrSchedule", "cosine");
        o.put("dataDir", DATA_DIR.toString());
        ClusterSpec s = ParameterServerIT.spec(servers + 4, dir, io.ringtmp.train.Workload.W1.model(), "mnist", o, 500, 10_000);
        ParameterServerIT.awaitSuccess(ParameterServerIT.startAll(s, dir), dir, 200);
        List<JsonNode> epochs = ParameterServerIT.events(dir.resolve("run"), servers, "epoch");
        assertEquals(3, epochs.size(), ParameterServerIT.log(dir, servers));
        System.out.println(consistency + ", " + servers + " servers, 4 workers: " + epochs);
        // Workers give each PARAMS chunk back once it is in the model, servers each PUSH chunk once
        // it is summed: all but the first pull's and push's arrays are decoded into again.
        for (int node = 0; node < servers + 4; node++) {
            JsonNode end = ParameterServerIT.events(dir.resolve("run"), node, "end").get(0);
            long received = end.get("tensorsReceived").asLong();
            assertTrue(received >= 3 * 468 && end.get("tensorsIntoReusedArrays").asLong() >= 0.95 * received,
                    "node " + node + ": " + end);
        }
        return epochs.get(2).get("testAccuracy").asDouble();
    }

    @Test
    void asp_oneServerFourWorkers_reaches97PercentIn3Epochs(@TempDir Path dir) throws Exception {
        double acc = finalAccuracy(dir, 1, "asp", null);
        assertTrue(acc >= 0.970, "asp test accuracy after 3 epochs: " + acc);
    }

    @Test
    void ssp_twoServersFourWorkersStaleness1_reaches97PercentIn3Epochs(@TempDir Path dir) throws Exception {
        double acc = finalAccuracy(dir, 2, "ssp", "1");
        assertTrue(acc >= 0.970, "ssp test accuracy after 3 epochs: " + acc);
    }
}
