package io.ringtmp.nn;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.ringtmp.tensor.Rng;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model description: the number of input features and the layers in order. Written either as
 * a shorthand or as a JSON file; both give the same spec, and the same spec and seed give the
 * same weights.
 *
 * <p>Shorthand: {@code mlp:784-512-512-10} is dense layers of those widths with ReLU between
 * them. Options follow a {@code ?}: {@code act=relu|tanh|sigmoid|gelu}, {@code dropout=P}
 * (after each hidden activation), {@code init=he|xavier|uniform} (default he for relu and gelu,
 * xavier for tanh and sigmoid). Example: {@code mlp:784-256-10?act=tanh&dropout=0.1}.
 *
 * <p>JSON: {@code {"input":784,"layers":[{"type":"dense","units":512,"init":"he"},{"type":"relu"},
 * ...]}}.
 *
 * @param input  features per input sample
 * @param layers the layers, first to last
 */
public record ModelSpec(int input, List<LayerSpec> layers) {
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(SerializationFeature.INDENT_OUTPUT);

    public ModelSpec {
        if (input <= 0) {
            throw new IllegalArgumentException("model input must be positive, got " + input);
        }
        if (layers == null || layers.isEmpty()) {
            throw new IllegalArgumentException("model has no layers");
        }
        layers = List.copyOf(layers);
    }

    /**
     * Reads a shorthand ({@code mlp:...}), a JSON text (starting with '{') or the path of a JSON
     * file.
     */
    public static ModelSpec parse(String text) {
        String s = text.trim();
        if (s.startsWith("mlp:")) {
            return parseMlp(s);
        }
        if (s.startsWith("{")) {
            return fromJson(s, "model JSON");
        }
        Path p = Path.of(s);
        if (Files.isRegularFile(p)) {
            try {
                return fromJson(Files.readString(p), p.toString());
            } catch (IOException e) {
                throw new IllegalArgumentException("cannot read model file " + p + ": " + e.getMessage(), e);
            }
        }
        throw new IllegalArgumentException("model '" + text + "' is neither a shorthand like mlp:784-512-10 nor a JSON file");
    }

    private static ModelSpec parseMlp(String s) {
        String body = s.substring(4);
        Map<String, String> opts = new LinkedHashMap<>();
        int q = body.indexOf('?');
        if (q >= 0) {
            for (String kv : body.substring(q + 1).split("&")) {
                if (kv.isEmpty()) {
                    continue;
                }
                int eq = kv.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("model option '" + kv + "' in '" + s + "' is not key=value");
                }
                opts.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
            body = body.substring(0, q);
        }
        for (String k : opts.keySet()) {
            if (!List.of("act", "dropout", "init").contains(k)) {
                throw new IllegalArgumentException("unknown model option '" + k + "' in '" + s + "' (expected act, dropout, init)");
            }
        }
        String[] parts = body.split("-");
        if (parts.length < 2) {
            throw new IllegalArgumentException("model '" + s + "' needs at least an input and an output width, e.g. mlp:784-10");
        }
        int[] widths = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                widths[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("model '" + s + "': width '" + parts[i] + "' is not a number");
            }
            if (widths[i] <= 0) {
                throw new IllegalArgumentException("model '" + s + "': width " + widths[i] + " must be positive");
            }
        }
        Activation.Kind act = Activation.Kind.parse(opts.getOrDefault("act", "relu"));
        double dropout = Double.parseDouble(opts.getOrDefault("dropout", "0"));
        Initializer init = opts.containsKey("init") ? Initializer.parse(opts.get("init"))
                : (act == Activation.Kind.TANH || act == Activation.Kind.SIGMOID ? Initializer.XAVIER : Initializer.HE);
        List<LayerSpec> layers = new ArrayList<>();
        for (int i = 1; i < widths.length; i++) {
            layers.add(LayerSpec.dense(widths[i], init));
            if (i < widths.length - 1) {
                layers.add(LayerSpec.of(act.id()));
                if (dropout > 0) {
                    layers.add(LayerSpec.dropout(dropout));
                }
            }
        }
        return new ModelSpec(widths[0], layers);
    }

    public static ModelSpec fromJson(String json, String source) {
        try {
            return JSON.readValue(json, ModelSpec.class);
        } catch (JsonProcessingException e) {
            String msg = e.getCause() instanceof IllegalArgumentException iae ? iae.getMessage() : e.getOriginalMessage();
            throw new IllegalArgumentException(source + ": not a valid model description: " + msg, e);
        }
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Features per sample of the model's output (the number of classes). */
    public int outputSize() {
        return widthAt(layers.size());
    }

    /** Features per sample entering layer {@code layer} (the output's at {@code layers().size()}): a stage's input width. */
    public int widthAt(int layer) {
        if (layer < 0 || layer > layers.size()) {
            throw new IllegalArgumentException("layer " + layer + " of a model with " + layers.size() + " layers");
        }
        int n = input;
        for (LayerSpec l : layers.subList(0, layer)) {
            if (l.type().equals("dense")) {
                n = l.units();
            }
        }
        return n;
    }

    /** Builds the model; layer {@code name}'s randomness comes from {@code Rng.derive(seed, name)}. */
    public Sequential build(long seed) {
        return build(seed, 0, layers.size());
    }

    /**
     * Builds only layers {@code [from, to)} — a pipeline stage — allocating nothing for the
     * others. Names and weights are those the whole model would have, so stages built on
     * different nodes together equal {@link #build(long)}.
     */
    public Sequential build(long seed, int from, int to) {
        if (from < 0 || to > layers.size() || from >= to) {
            throw new IllegalArgumentException("layers [" + from + ", " + to + ") of a model with " + layers.size() + " layers");
        }
        Map<String, Integer> counters = new LinkedHashMap<>();
        List<Layer> built = new ArrayList<>(to - from);
        int width = input, sliceInput = input;
        for (int i = 0; i < to; i++) {
            LayerSpec spec = layers.get(i);
            String prefix = spec.namePrefix();
            int k = counters.merge(prefix, 1, Integer::sum);
            int out = spec.type().equals("dense") ? spec.units() : width;
            if (i == from) {
                sliceInput = width;
            }
            if (i >= from) {
                String name = prefix + k;
                Layer layer = spec.build(name, width, new Rng(Rng.derive(seed, name)));
                out = layer.outputSize(width);
                built.add(layer);
            }
            width = out;
        }
        return new Sequential(sliceInput, built);
    }
}
