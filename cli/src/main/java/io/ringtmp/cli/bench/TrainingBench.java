package io.ringtmp.cli.bench;

import io.ringtmp.data.Dataset;
import io.ringtmp.data.TrainTest;
import io.ringtmp.nn.ModelSpec;
import io.ringtmp.nn.optim.OptimizerConfig;
import io.ringtmp.tensor.Rng;
import io.ringtmp.tensor.Tensor;
import io.ringtmp.train.TrainConfig;
import io.ringtmp.train.Trainer;
import io.ringtmp.train.Workload;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Training throughput of the standard workloads through the real single-node {@link Trainer}
 * (batch gathering, forward, loss, backward, optimiser step), on random inputs and labels as the
 * PyTorch peer uses, after a warm-up.
 */
public final class TrainingBench {
    /** The compute benchmark's workloads (W2B is W2 with wider inputs: the same per-node kernels). */
    public static final List<Workload> WORKLOADS = List.of(Workload.W1, Workload.W2);

    /** How long a workload is timed: random samples, warm-up and timed updates. */
    private record Timing(int samples, int warmup, int iters) {
        static Timing of(Workload w) {
            return w == Workload.W1 ? new Timing(8192, 50, 600) : new Timing(512, 3, 10);
        }
    }

    /** The matrix products of one of {@code w}'s training steps. */
    public static GemmBench.Workload gemms(Workload w) {
        return GemmBench.of(w);
    }

    /**
     * @param samplesPerSec     training samples per second over the timed updates
     * @param stepGflops        GEMM FLOPs per second of the training steps (the FLOPs of
     *                          {@link #gemms} per step, over the measured step time)
     * @param peakRssBytes      the process's peak resident set (VmHWM), or -1 where unknown
     * @param mustHoldBytes     parameters + gradients + optimiser state + activations + the data
     */
    public record Result(Workload workload, int threads, double samplesPerSec, double stepGflops, long peakRssBytes,
                         long mustHoldBytes) {
        public String line() {
            return String.format(Locale.ROOT, "%s threads=%d: %.1f samples/s", workload, threads, samplesPerSec);
        }
    }

    private TrainingBench() {
    }

    /** Runs {@code iters} timed updates (default per workload when 0) with {@code threads} threads. */
    public static Result run(Workload w, int threads, int iters) {
        Timing timing = Timing.of(w);
        int timed = iters > 0 ? iters : timing.iters();
        ModelSpec spec = w.spec();
        TrainTest data = randomData(spec.input(), spec.outputSize(), timing.samples());
        TrainConfig cfg = new TrainConfig(spec, 1_000_000, w.batch(), w.lr(), OptimizerConfig.sgd(0.9, false, 0),
                "constant", 1, threads, 0);
        Trainer t = new Trainer(cfg, data);
        for (int i = 0; i < timing.warmup(); i++) {
            t.trainStep();
        }
        long t0 = System.nanoTime();
        for (int i = 0; i < timed; i++) {
            t.trainStep();
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        double sps = timed * (double) w.batch() / secs;
        double flops = gemms(w).flops() * timed / secs / 1e9;
        long hold = 3 * t.model().cost().parameterBytes()
                + t.model().newActivations(1).bytes() * w.batch()
                + 4L * data.train().size() * (spec.input() + 1);
        return new Result(w, threads, sps, flops, peakRss(), hold);
    }

    static TrainTest randomData(int inputs, int classes, int n) {
        Rng rng = new Rng(7);
        Tensor x = Tensor.zeros(n, inputs);
        int[] y = new int[n];
        for (int i = 0; i < x.size(); i++) {
            x.set(i, rng.nextFloat());
        }
        for (int i = 0; i < n; i++) {
            y[i] = rng.nextInt(classes);
        }
        Dataset train = Dataset.of("random", x, y, classes);
        return new TrainTest(train, train.subset(0, Math.min(n, 256)));
    }

    /** VmHWM of this process from /proc, in bytes; -1 where not available. */
    public static long peakRss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
