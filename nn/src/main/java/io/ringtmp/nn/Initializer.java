package io.ringtmp.nn;

import io.ringtmp.tensor.Rng;
import io.ringtmp.tensor.Tensor;

import java.util.Locale;

/** How a dense layer's weights start. Biases start at zero. */
public enum Initializer {
    /** He (Kaiming) normal: N(0, 2/fanIn); for ReLU-like activations. */
    HE,
    /** Xavier (Glorot) uniform: U(-a, a), a = sqrt(6/(fanIn+fanOut)); for tanh and sigmoid. */
    XAVIER,
    /** PyTorch's nn.Linear default: U(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
    UNIFORM_FAN_IN;

    /** Fills {@code w} (shape [fanIn, fanOut]) from {@code rng}. */
    public void fill(Tensor w, int fanIn, int fanOut, Rng rng) {
        int n = w.size();
        switch (this) {
            case HE -> {
                double sd = Math.sqrt(2.0 / fanIn);
                for (int i = 0; i < n; i++) {
                    w.set(i, (float) (rng.nextGaussian() * sd));
                }
            }
            case XAVIER -> uniform(w, Math.sqrt(6.0 / (fanIn + fanOut)), rng);
            case UNIFORM_FAN_IN -> uniform(w, 1.0 / Math.sqrt(fanIn), rng);
        }
    }

    private static void uniform(Tensor w, double a, Rng rng) {
        for (int i = 0, n = w.size(); i < n; i++) {
            w.set(i, (float) ((2 * rng.nextDouble() - 1) * a));
        }
    }

    /** Parses {@code he}, {@code xavier}, {@code uniform} (case-insensitive). */
    public static Initializer parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "he", "kaiming" -> HE;
            case "xavier", "glorot" -> XAVIER;
            case "uniform", "uniform_fan_in", "torch" -> UNIFORM_FAN_IN;
            default -> throw new IllegalArgumentException("unknown initializer '" + s + "' (expected he, xavier or uniform)");
        };
    }

    public String id() {
        return switch (this) {
            case HE -> "he";
            case XAVIER -> "xavier";
            case UNIFORM_FAN_IN -> "uniform";
        };
    }
}
