package io.ringtmp.train;

import io.ringtmp.nn.ModelSpec;
import io.ringtmp.nn.optim.LrSchedule;
import io.ringtmp.nn.optim.OptimizerConfig;

/**
 * Everything that decides a training run's result. Two runs with equal configs and equal data
 * compute the same weights.
 *
 * @param model      the architecture
 * @param epochs     passes over the training set
 * @param batchSize  samples per update; the last partial batch of an epoch is dropped, as in
 *                   PyTorch's {@code drop_last=True}, so every update sees exactly this many
 * @param lr         base learning rate
 * @param optimizer  optimiser and its hyper-parameters
 * @param schedule   learning-rate schedule in {@link LrSchedule}'s text form
 * @param seed       run seed; weights, data order and dropout derive their seeds from it
 * @param threads    compute threads (matrix products)
 * @param maxSteps   stop after this many updates even within an epoch (0 = no limit)
 */
public record TrainConfig(ModelSpec model, int epochs, int batchSize, double lr, OptimizerConfig optimizer,
                          String schedule, long seed, int threads, long maxSteps) {
    public TrainConfig {
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        if (!(lr > 0)) {
            throw new IllegalArgumentException("learning rate must be > 0, got " + lr);
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        if (maxSteps < 0) {
            throw new IllegalArgumentException("max steps must be >= 0, got " + maxSteps);
        }
        LrSchedule.parse(schedule, lr, 1);
    }

    /** The standard workload W1's recipe on {@code model}: SGD lr 0.05, momentum 0.9, batch 128. */
    public static TrainConfig w1(ModelSpec model, int epochs) {
        return new TrainConfig(model, epochs, Workload.W1.batch(), Workload.W1.lr(), OptimizerConfig.sgd(0.9, false, 0), "constant", 1, 1, 0);
    }

    public TrainConfig withMaxSteps(long steps) {
        return new TrainConfig(model, epochs, batchSize, lr, optimizer, schedule, seed, threads, steps);
    }

    public TrainConfig withOptimizer(OptimizerConfig o) {
        return new TrainConfig(model, epochs, batchSize, lr, o, schedule, seed, threads, maxSteps);
    }

    public TrainConfig withThreads(int n) {
        return new TrainConfig(model, epochs, batchSize, lr, optimizer, schedule, seed, n, maxSteps);
    }
}
