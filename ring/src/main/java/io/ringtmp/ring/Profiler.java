package io.ringtmp.ring;

import io.ringtmp.nn.Activations;
import io.ringtmp.nn.LayerCost;
import io.ringtmp.nn.ModelSpec;
import io.ringtmp.nn.Sequential;
import io.ringtmp.node.CpuQuota;
import io.ringtmp.tensor.Tensor;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;

/**
 * Times every layer's forward and backward pass at the microbatch size on this node, for the
 * {@link Partitioner}. Builds one layer at a time (so a node never holds the whole model),
 * runs one warm-up pass and then timed passes until {@code budgetNs} per layer is spent (at
 * least three), and keeps the fastest: the least disturbed by other processes on the machine.
 * Light layers (a pass under 1 ms) are timed again once every layer has run, and keep the faster
 * figure: in a fresh JVM their first passes can precede the JIT's compiled code.
 *
 * <p>Under a CPU quota (an emulated device, {@link CpuQuota}) passes are timed in the thread's
 * CPU time and divided by the quota's share: wall times there mix passes that fit in a quota
 * period (full speed) with passes that are throttled (the quota's rate), which weighs short and
 * long layers differently. The compute runs on the calling thread (one BLAS thread per node).
 */
public final class Profiler {
    /** Layers whose fastest pass is under this are timed a second time, after all the others. */
    static final long REMEASURE_BELOW_NS = 1_000_000;

    private Profiler() {
    }

    /**
     * Measured profiles of {@code model}'s layers at {@code rows} rows per microbatch.
     *
     * @param cpuShare the cores a CPU quota grants this process, or empty without a quota
     */
    public static List<Partitioner.LayerProfile> measure(ModelSpec model, int rows, long seed, long budgetNs, OptionalDouble cpuShare) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        boolean cpuTime = cpuShare.isPresent() && threads.isCurrentThreadCpuTimeSupported();
        double scale = cpuTime ? 1 / cpuShare.getAsDouble() : 1;
        int n = model.layers().size();
        long[] best = new long[n];
        List<Partitioner.LayerProfile> sizes = new ArrayList<>();
        for (int l = 0; l < n; l++) {
            Sequential one = model.build(seed, l, l + 1);
            best[l] = fastestPassNs(one, l, rows, budgetNs, cpuTime ? threads : null);
            LayerCost c = one.cost();
            sizes.add(new Partitioner.LayerProfile(one.layers().get(0).name(), 0, c.parameterBytes(), c.activationBytesPerSample() * rows,
                    Partitioner.outputBytes(one, rows)));
        }
        // A light layer measured in a fresh JVM can run before the JIT has compiled its loops (the
        // compile queue is long at start-up): relu1 of 784-300-200-100-10 read 44-108 µs instead
        // of 4-5 in half the runs, enough to give it a node of its own. Light layers are cheap to
        // build and time again, after every other layer has run.
        for (int l = 0; l < n; l++) {
            if (best[l] < REMEASURE_BELOW_NS) {
                best[l] = Math.min(best[l], fastestPassNs(model.build(seed, l, l + 1), l, rows, budgetNs, cpuTime ? threads : null));
            }
        }
        List<Partitioner.LayerProfile> out = new ArrayList<>();
        for (int l = 0; l < n; l++) {
            Partitioner.LayerProfile p = sizes.get(l);
            out.add(new Partitioner.LayerProfile(p.name(), best[l] * scale / 1e9, p.parameterBytes(), p.activationBytes(), p.outputBytes()));
        }
        return out;
    }

    /**
     * The fastest of at least three timed passes of the one-layer model {@code one} (layer
     * {@code l} of the model), after one untimed, until {@code budgetNs} is spent (at most 50);
     * in CPU time when {@code cpuClock} is given, else wall time.
     */
    private static long fastestPassNs(Sequential one, int l, int rows, long budgetNs, ThreadMXBean cpuClock) {
        Activations acts = one.newActivations(rows);
        Tensor x = Tensor.zeros(rows, one.inputSize());
        for (int i = 0; i < x.size(); i++) {
            x.set(i, (float) Math.sin(i * 0.37));
        }
        Tensor dy = Tensor.zeros(rows, one.outputSize());
        dy.fill(1e-3f);
        long best = Long.MAX_VALUE, spent = 0;
        for (int rep = 0; rep < 50 && (rep < 4 || spent < budgetNs); rep++) {
            long t0 = cpuClock != null ? cpuClock.getCurrentThreadCpuTime() : System.nanoTime();
            one.forward(x, acts, true);
            // The first layer is always on stage 0, which never computes an input gradient.
            one.backward(dy, acts, l > 0);
            long t = (cpuClock != null ? cpuClock.getCurrentThreadCpuTime() : System.nanoTime()) - t0;
            if (rep > 0) {
                best = Math.min(best, t);
                spent += t;
            }
        }
        return best;
    }

    /** Profiles estimated from FLOP counts at {@code flopsPerSecond} (no timing; one layer built at a time). */
    public static List<Partitioner.LayerProfile> estimate(ModelSpec model, int rows, long seed, double flopsPerSecond) {
        List<Partitioner.LayerProfile> out = new ArrayList<>();
        for (int l = 0; l < model.layers().size(); l++) {
            Sequential one = model.build(seed, l, l + 1);
            LayerCost c = one.cost();
            out.add(new Partitioner.LayerProfile(one.layers().get(0).name(), c.trainingFlopsPerSample() * (double) rows / flopsPerSecond,
                    c.parameterBytes(), c.activationBytesPerSample() * rows, Partitioner.outputBytes(one, rows)));
        }
        return out;
    }

    /** Parameters of the whole model, counted without building it. */
    public static long parameterCount(ModelSpec model) {
        long n = 0;
        int w = model.input();
        for (var l : model.layers()) {
            if (l.type().equals("dense")) {
                n += (long) w * l.units() + l.units();
                w = l.units();
            }
        }
        return n;
    }
}
