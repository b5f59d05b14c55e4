package io.ringtmp.ring;

import io.ringtmp.nn.Activations;
import io.ringtmp.nn.LayerCost;
import io.ringtmp.nn.ModelSpec;
import io.ringtmp.nn.Sequential;
import io.ringtmp.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Times every layer's forward and backward pass at the microbatch size on this node, for the
 * {@link Partitioner}. Builds one layer at a time (so a node never holds the whole model),
 * runs one warm-up pass and then timed passes until {@code budgetNs} per layer is spent (at
 * least two), and keeps the fastest: the least disturbed by other processes on the machine.
 */
public final class Profiler {
    private Profiler() {
    }

    /** Measured profiles of {@code model}'s layers at {@code rows} rows per microbatch. */
    public static List<Partitioner.LayerProfile> measure(ModelSpec model, int rows, long seed, long budgetNs) {
        List<Partitioner.LayerProfile> out = new ArrayList<>();
        int n = model.layers().size();
        for (int l = 0; l < n; l++) {
            Sequential one = model.build(seed, l, l + 1);
            Activations acts = one.newActivations(rows);
            Tensor x = Tensor.zeros(rows, one.inputSize());
            for (int i = 0; i < x.size(); i++) {
                x.set(i, (float) Math.sin(i * 0.37));
            }
            Tensor dy = Tensor.zeros(rows, one.outputSize());
            dy.fill(1e-3f);
            long best = Long.MAX_VALUE, spent = 0;
            for (int rep = 0; rep < 50 && (rep < 3 || spent < budgetNs); rep++) {
                long t0 = System.nanoTime();
                one.forward(x, acts, true);
                // The first layer is always on stage 0, which never computes an input gradient.
                one.backward(dy, acts, l > 0);
                long t = System.nanoTime() - t0;
                if (rep > 0) {
                    best = Math.min(best, t);
                    spent += t;
                }
            }
            LayerCost c = one.cost();
            out.add(new Partitioner.LayerProfile(one.layers().get(0).name(), best / 1e9, c.parameterBytes(),
                    c.activationBytesPerSample() * rows));
        }
        return out;
    }

    /** Profiles estimated from FLOP counts at {@code flopsPerSecond} (no timing; one layer built at a time). */
    public static List<Partitioner.LayerProfile> estimate(ModelSpec model, int rows, long seed, double flopsPerSecond) {
        List<Partitioner.LayerProfile> out = new ArrayList<>();
        for (int l = 0; l < model.layers().size(); l++) {
            Sequential one = model.build(seed, l, l + 1);
            LayerCost c = one.cost();
            out.add(new Partitioner.LayerProfile(one.layers().get(0).name(), c.trainingFlopsPerSample() * (double) rows / flopsPerSecond,
                    c.parameterBytes(), c.activationBytesPerSample() * rows));
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
