package io.ringtmp.nn;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.ringtmp.tensor.Rng;

import java.util.Locale;

/**
 * A layer's description in a model file: {@code {"type":"dense","units":512,"init":"he"}},
 * {@code {"type":"relu"}}, {@code {"type":"dropout","rate":0.2}}. Fields a type does not use are
 * null and left out of the JSON.
 *
 * @param type  dense, relu, tanh, sigmoid, gelu, dropout or flatten
 * @param units output features (dense)
 * @param rate  drop probability (dropout)
 * @param init  he, xavier or uniform (dense; he when absent)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record LayerSpec(String type, Integer units, Double rate, String init) {
    public LayerSpec {
        if (type == null || type.isBlank()) {
            throw new IllegalArgumentException("layer without a type");
        }
        type = type.toLowerCase(Locale.ROOT);
        switch (type) {
            case "dense" -> {
                if (units == null || units <= 0) {
                    throw new IllegalArgumentException("dense layer needs positive units, got " + units);
                }
                if (init != null) {
                    init = Initializer.parse(init).id();
                }
            }
            case "dropout" -> {
                if (rate == null || !(rate >= 0 && rate < 1)) {
                    throw new IllegalArgumentException("dropout needs a rate in [0, 1), got " + rate);
                }
            }
            case "flatten" -> { }
            default -> Activation.Kind.parse(type);
        }
    }

    public static LayerSpec dense(int units, Initializer init) {
        return new LayerSpec("dense", units, null, init.id());
    }

    public static LayerSpec dropout(double rate) {
        return new LayerSpec("dropout", null, rate, null);
    }

    /** A layer with no options: an activation or flatten. */
    public static LayerSpec of(String type) {
        return new LayerSpec(type, null, null, null);
    }

    /** Makes the layer for an input of {@code inputSize} features, its randomness drawn from {@code rng}. */
    public Layer build(String name, int inputSize, Rng rng) {
        return switch (type) {
            case "dense" -> new Dense(name, inputSize, units, init == null ? Initializer.HE : Initializer.parse(init), rng);
            case "dropout" -> new Dropout(name, rate, rng);
            case "flatten" -> new Flatten(name);
            default -> new Activation(name, Activation.Kind.parse(type));
        };
    }

    /** The prefix of generated layer names: fc, relu, drop, ... */
    String namePrefix() {
        return switch (type) {
            case "dense" -> "fc";
            case "dropout" -> "drop";
            default -> type;
        };
    }
}
