package io.ringtmp.launch;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainingViewTest {
    @TempDir
    Path dir;

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    private void append(int node, String... lines) throws IOException {
        Files.writeString(dir.resolve("node-" + node + ".jsonl"), String.join("\n", lines) + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private static String step(int node, long s) {
        return "{\"event\":\"step\",\"node\":" + node + ",\"step\":" + s + ",\"computeMs\":1.0}";
    }

    private static String epoch(int e, long s, double acc) {
        return "{\"event\":\"epoch\",\"node\":0,\"epoch\":" + e + ",\"step\":" + s + ",\"trainLoss\":0.5,\"testLoss\":0.25,"
                + "\"testAccuracy\":" + acc + ",\"samplesPerSec\":12345.6,\"seconds\":2.5}";
    }

    /** What the screen shows at the end: each \r-overwritten line reduced to its last state. */
    private List<String> screen() {
        return Arrays.stream(bytes.toString(StandardCharsets.UTF_8).split("\n"))
                .map(l -> l.substring(l.lastIndexOf('\r') + 1).replace("\033[K", "").stripTrailing()).toList();
    }

    @Test
    void showsThePartitionABarPerEpochAndTheAccuracyAfterEach() throws IOException {
        append(0, "{\"event\":\"partition\",\"node\":0,\"schedule\":\"1f1b\",\"microbatches\":4,\"inflight\":2,"
                        + "\"stages\":[\"stage 0: layers fc1..relu1 (2), 0.5 ms per microbatch, 1.0 MiB\",\"stage 1: layers fc2..fc2 (1)\"]}",
                "{\"event\":\"training\",\"node\":0,\"epochs\":2,\"stepsPerEpoch\":3,\"startStep\":0,\"totalSteps\":6}");
        append(1, step(1, 1), step(1, 2)); // Another node's steps draw nothing.
        TrainingView v = TrainingView.start(dir, 2, out, 100);
        v.pollOnce();
        append(0, step(0, 1), step(0, 2));
        v.pollOnce();
        v.println("node 1 exited with 3"); // The launcher's own line, printed while a bar is up.
        append(0, step(0, 3), epoch(1, 3, 0.9), step(0, 4), step(0, 5), step(0, 6), "{\"event\":\"epoch\",\"node\":0,\"ep");
        v.pollOnce();
        append(0, "{\"event\":\"epoch\",\"node\":0,\"epoch\":2,\"step\":6,\"trainLoss\":0.5,\"testLoss\":0.25,\"testAccuracy\":0.95,"
                + "\"samplesPerSec\":12345.6,\"seconds\":2.5}");
        v.close();

        List<String> s = screen();
        assertEquals("partition: 1f1b schedule, 4 microbatches per mini-batch, up to 2 in flight", s.get(0));
        assertEquals("  stage 0: layers fc1..relu1 (2), 0.5 ms per microbatch, 1.0 MiB", s.get(1));
        assertEquals("  stage 1: layers fc2..fc2 (1)", s.get(2));
        assertEquals("node 1 exited with 3", s.get(3));
        assertTrue(s.get(4).startsWith("epoch 1/2 100%") && s.get(4).contains("3/3 steps"), s.get(4));
        assertEquals("epoch 1: test accuracy 0.9000 (loss 0.2500), train loss 0.5000, 12,346 samples/s, 2.5 s", s.get(5));
        assertTrue(s.get(6).startsWith("epoch 2/2 100%") && s.get(6).contains("3/3 steps"), s.get(6));
        assertEquals("epoch 2: test accuracy 0.9500 (loss 0.2500), train loss 0.5000, 12,346 samples/s, 2.5 s", s.get(7));
        assertEquals(8, s.size(), String.join("\n", s));
        s.forEach(l -> assertTrue(l.length() <= 100, l));
    }

    @Test
    void aResumedRunCountsItsFirstEpochFromTheResumedStep() throws IOException {
        append(0, "{\"event\":\"training\",\"node\":0,\"epochs\":2,\"stepsPerEpoch\":4,\"startStep\":6,\"totalSteps\":8}",
                step(0, 7), step(0, 8), epoch(2, 8, 0.9));
        TrainingView v = TrainingView.start(dir, 1, out, 100);
        v.close();
        List<String> s = screen();
        assertEquals(2, s.size(), bytes.toString(StandardCharsets.UTF_8));
        assertTrue(s.get(0).startsWith("epoch 2/2 100%") && s.get(0).contains("2/2 steps"), s.get(0));
        assertTrue(s.get(1).startsWith("epoch 2: test accuracy 0.9000"), s.get(1));
    }
}
