package io.ringtmp.nn.optim;

import java.util.Locale;

/**
 * Which optimiser and its hyper-parameters. The learning rate itself comes from an
 * {@link LrSchedule} at each step.
 *
 * @param kind        sgd or adam
 * @param momentum    SGD momentum (0 for plain SGD)
 * @param nesterov    Nesterov momentum (SGD)
 * @param beta1       Adam's first-moment decay
 * @param beta2       Adam's second-moment decay
 * @param epsilon     Adam's denominator guard
 * @param weightDecay L2 penalty added to the gradient ({@code g += wd · w}), as PyTorch's SGD and Adam do
 */
public record OptimizerConfig(Kind kind, double momentum, boolean nesterov, double beta1, double beta2,
                              double epsilon, double weightDecay) {
    /** The optimisers on offer. */
    public enum Kind { SGD, ADAM }

    public OptimizerConfig {
        if (momentum < 0 || momentum >= 1) {
            throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
        }
        if (nesterov && momentum == 0) {
            throw new IllegalArgumentException("Nesterov needs a momentum > 0");
        }
        if (beta1 < 0 || beta1 >= 1 || beta2 < 0 || beta2 >= 1) {
            throw new IllegalArgumentException("Adam betas must be in [0, 1), got " + beta1 + ", " + beta2);
        }
        if (epsilon <= 0) {
            throw new IllegalArgumentException("epsilon must be > 0, got " + epsilon);
        }
        if (weightDecay < 0) {
            throw new IllegalArgumentException("weight decay must be >= 0, got " + weightDecay);
        }
    }

    public static OptimizerConfig sgd(double momentum, boolean nesterov, double weightDecay) {
        return new OptimizerConfig(Kind.SGD, momentum, nesterov, 0.9, 0.999, 1e-8, weightDecay);
    }

    public static OptimizerConfig adam(double beta1, double beta2, double epsilon, double weightDecay) {
        return new OptimizerConfig(Kind.ADAM, 0, false, beta1, beta2, epsilon, weightDecay);
    }

    /** {@code sgd}, {@code sgd-nesterov}, {@code adam}, with the given momentum and weight decay. */
    public static OptimizerConfig parse(String name, double momentum, double weightDecay) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "sgd" -> sgd(momentum, false, weightDecay);
            case "nesterov", "sgd-nesterov" -> sgd(momentum, true, weightDecay);
            case "adam" -> adam(0.9, 0.999, 1e-8, weightDecay);
            default -> throw new IllegalArgumentException("unknown optimizer '" + name + "' (expected sgd, nesterov or adam)");
        };
    }
}
