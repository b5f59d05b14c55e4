package io.ringtmp.train;

import io.ringtmp.nn.ModelSpec;

import java.util.Arrays;

/**
 * The standard workloads of SPEC.md, defined once for the benchmarks, the demo and the tests:
 * a model, its mini-batch and its learning rate (SGD with momentum 0.9).
 */
public enum Workload {
    /** A small MLP on MNIST: 784-512-512-10, batch 128. */
    W1("mlp:784-512-512-10", 128, 0.05),
    /** A wide MLP: 784-4096×4-10, batch 256. */
    W2("mlp:784-4096-4096-4096-4096-10", 256, 0.01),
    /**
     * W2 with 6144 inputs, so that its 4 contiguous stages can balance: the first stage computes
     * no input gradient, so fc1's forward and backward are 2 products of 6144×4096, as many flops
     * as the 3 products of 4096×4096 of each of fc2..fc4. W2's own fc1 (784 inputs) is an eighth of
     * a hidden layer, so its first stage idles by construction.
     */
    W2B("mlp:6144-4096-4096-4096-4096-10", 256, 0.01);

    private final String model;
    private final int batch;
    private final double lr;

    Workload(String model, int batch, double lr) {
        this.model = model;
        this.batch = batch;
        this.lr = lr;
    }

    /** The model's shorthand, e.g. {@code mlp:784-512-512-10}. */
    public String model() {
        return model;
    }

    public int batch() {
        return batch;
    }

    public double lr() {
        return lr;
    }

    public ModelSpec spec() {
        return ModelSpec.parse(model);
    }

    /** The layer widths, input first: {@code [784, 512, 512, 10]} for W1. */
    public int[] widths() {
        return Arrays.stream(model.substring(model.indexOf(':') + 1).split("-")).mapToInt(Integer::parseInt).toArray();
    }

    public int inputs() {
        return widths()[0];
    }

    /** The workload's training configuration for {@code epochs} (SGD, momentum 0.9, constant rate, seed 1, one thread). */
    public TrainConfig config(int epochs) {
        return new TrainConfig(spec(), epochs, batch, lr, io.ringtmp.nn.optim.OptimizerConfig.sgd(0.9, false, 0), "constant", 1, 1, 0);
    }
}
