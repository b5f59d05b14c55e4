package io.ringtmp.launch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What a training run shows on a terminal while the nodes' own output goes to their logs: the
 * partition, a progress bar per epoch and the test accuracy after each, read from the nodes'
 * metrics files as they are written (the {@code partition}, {@code training}, {@code step} and
 * {@code epoch} events of docs/metrics.md). The launcher's own lines go through {@link #println}
 * so that they never land inside a bar.
 */
final class TrainingView implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long POLL_MS = 200;

    private final PrintStream out;
    private final int width;
    private final List<MetricsTail> tails = new ArrayList<>();
    private final Thread poller;
    private volatile boolean stopping;
    // Guarded by this.
    private int reporter = -1;
    private int epochs;
    private long stepsPerEpoch;
    private long startStep;
    private long totalSteps;
    private ProgressBar bar;
    private int barEpoch;
    private long barFirstStep;

    /**
     * @param width the bars' width in columns; 0 for the terminal's
     */
    private TrainingView(Path runDir, int nodes, PrintStream out, int width) {
        this.out = out;
        this.width = width;
        for (int i = 0; i < nodes; i++) {
            tails.add(new MetricsTail(runDir.resolve("node-" + i + ".jsonl")));
        }
        poller = new Thread(this::follow, "ringtmp-training-view");
        poller.setDaemon(true);
    }

    /** Starts following the run's metrics files. */
    static TrainingView start(Path runDir, int nodes, PrintStream out, int width) {
        TrainingView v = new TrainingView(runDir, nodes, out, width);
        v.poller.start();
        return v;
    }

    /** Prints a line above the current bar. */
    synchronized void println(String line) {
        if (bar == null) {
            out.println(line);
        } else {
            // One write: the bar's own refresh thread writes to the same stream.
            out.print("\r\033[K" + line + System.lineSeparator());
            bar.refresh();
        }
        out.flush();
    }

    private void follow() {
        while (!stopping) {
            pollOnce();
            synchronized (this) {
                try {
                    // Woken by close(), never interrupted: an interrupt would cut a bar's final redraw short.
                    wait(POLL_MS);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    /** Reads what the nodes have written since the last poll and shows it. */
    synchronized void pollOnce() {
        for (int i = 0; i < tails.size(); i++) {
            for (String line : tails.get(i).poll()) {
                JsonNode j;
                try {
                    j = JSON.readTree(line);
                } catch (IOException e) {
                    continue; // A line cut short by a killed node.
                }
                show(i, j);
            }
        }
    }

    private void show(int node, JsonNode j) {
        switch (j.path("event").asText()) {
            case "partition" -> {
                println(String.format(Locale.ROOT, "partition: %s schedule, %d microbatches per mini-batch, up to %d in flight",
                        j.path("schedule").asText(), j.path("microbatches").asInt(), j.path("inflight").asInt()));
                for (JsonNode s : j.path("stages")) {
                    println("  " + s.asText());
                }
            }
            case "training" -> {
                reporter = node;
                epochs = j.path("epochs").asInt();
                stepsPerEpoch = Math.max(1, j.path("stepsPerEpoch").asLong());
                startStep = j.path("startStep").asLong();
                totalSteps = j.path("totalSteps").asLong();
            }
            case "step" -> {
                if (node == reporter) {
                    step(j.path("step").asLong());
                }
            }
            case "epoch" -> {
                if (node == reporter) {
                    epoch(j);
                }
            }
            default -> { }
        }
    }

    private int epochOf(long completedStep) {
        return (int) ((completedStep - 1) / stepsPerEpoch) + 1;
    }

    private void step(long s) {
        int e = epochOf(s);
        if (bar != null && barEpoch != e) {
            closeBar();
        }
        if (bar == null) {
            barEpoch = e;
            barFirstStep = Math.max(startStep, (e - 1) * stepsPerEpoch);
            long last = Math.min(totalSteps, e * stepsPerEpoch);
            bar = ProgressBars.start(new ProgressBarBuilder().setTaskName(String.format(Locale.ROOT, "epoch %d/%d", e, epochs))
                    .setInitialMax(Math.max(1, last - barFirstStep)).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(200)
                    .setUnit(" steps", 1), width > 0 ? new ConsoleProgressBarConsumer(out, width) : ProgressBars.consumer(out));
        }
        bar.stepTo(s - barFirstStep);
    }

    private void epoch(JsonNode j) {
        long s = j.path("step").asLong();
        int e = epochOf(s);
        if (bar != null && barEpoch == e) {
            bar.stepTo(bar.getMax());
        }
        closeBar();
        println(String.format(Locale.ROOT, "epoch %d: test accuracy %.4f (loss %.4f), train loss %.4f, %,.0f samples/s, %.1f s",
                e, j.path("testAccuracy").asDouble(), j.path("testLoss").asDouble(), j.path("trainLoss").asDouble(),
                j.path("samplesPerSec").asDouble(), j.path("seconds").asDouble()));
    }

    private void closeBar() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }

    /** Stops following, shows what the nodes wrote last (call it once they have exited) and ends the bar. */
    @Override
    public void close() {
        stopping = true;
        synchronized (this) {
            notifyAll();
        }
        try {
            poller.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            pollOnce();
            closeBar();
        }
    }
}
