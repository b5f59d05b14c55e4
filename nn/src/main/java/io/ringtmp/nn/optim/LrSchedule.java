package io.ringtmp.nn.optim;

import java.util.Locale;

/**
 * The learning rate as a function of the update number (0-based).
 *
 * <p>Text form, as the CLI takes it: {@code constant}, {@code step:EVERY:GAMMA} (multiply by
 * GAMMA every EVERY updates), {@code cosine} or {@code cosine:MIN_FRACTION} (cosine decay over
 * the run's total updates to MIN_FRACTION of the base rate, default 0).
 */
public sealed interface LrSchedule {
    double lr(long step);

    /** Constant rate. */
    record Constant(double base) implements LrSchedule {
        public double lr(long step) {
            return base;
        }
    }

    /** Step decay: {@code base · gamma^(step / every)}. */
    record Step(double base, long every, double gamma) implements LrSchedule {
        public Step {
            if (every <= 0) {
                throw new IllegalArgumentException("step schedule needs every > 0, got " + every);
            }
        }

        public double lr(long step) {
            return base * Math.pow(gamma, step / every);
        }
    }

    /** Cosine decay from base to {@code base · minFraction} over {@code totalSteps}. */
    record Cosine(double base, long totalSteps, double minFraction) implements LrSchedule {
        public Cosine {
            if (totalSteps <= 0) {
                throw new IllegalArgumentException("cosine schedule needs total steps > 0, got " + totalSteps);
            }
        }

        public double lr(long step) {
            double t = Math.min(1.0, (double) step / totalSteps);
            double min = base * minFraction;
            return min + 0.5 * (base - min) * (1 + Math.cos(Math.PI * t));
        }
    }

    /** Parses the text form for a base rate and the run's total number of updates. */
    public static LrSchedule parse(String text, double base, long totalSteps) {
        String[] p = text.toLowerCase(Locale.ROOT).split(":");
        try {
            return switch (p[0]) {
                case "constant" -> new Constant(base);
                case "step" -> new Step(base, Long.parseLong(p[1]), Double.parseDouble(p[2]));
                case "cosine" -> new Cosine(base, totalSteps, p.length > 1 ? Double.parseDouble(p[1]) : 0);
                default -> throw new IllegalArgumentException("unknown schedule '" + text + "' (expected constant, step:EVERY:GAMMA or cosine[:MIN])");
            };
        } catch (ArrayIndexOutOfBoundsException | NumberFormatException e) {
            throw new IllegalArgumentException("bad schedule '" + text + "' (expected constant, step:EVERY:GAMMA or cosine[:MIN])");
        }
    }
}
