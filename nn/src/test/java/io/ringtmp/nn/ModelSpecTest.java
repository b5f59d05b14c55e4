package io.ringtmp.nn;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelSpecTest {
    @Test
    void shorthand_andJson_giveTheSameModel() {
        ModelSpec shorthand = ModelSpec.parse("mlp:784-512-512-10");
        ModelSpec json = ModelSpec.parse("""
                {"input": 784, "layers": [
                  {"type": "dense", "units": 512, "init": "he"}, {"type": "relu"},
                  {"type": "dense", "units": 512, "init": "he"}, {"type": "relu"},
                  {"type": "dense", "units": 10, "init": "he"}]}""");
        assertEquals(shorthand, json);
        Sequential a = shorthand.build(7), b = json.build(7);
        for (int i = 0; i < a.parameters().size(); i++) {
            assertEquals(0f, a.parameters().get(i).value().maxAbsDiff(b.parameters().get(i).value()));
        }
        assertEquals(784 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10, a.parameterCount());
    }

    @Test
    void json_roundTrip() {
        ModelSpec s = ModelSpec.parse("mlp:20-16-8-3?act=gelu&dropout=0.25&init=xavier");
        assertEquals(s, ModelSpec.fromJson(s.toJson(), "test"));
        assertEquals(s, s.build(1).spec());
        assertEquals(List.of("fc1", "gelu1", "drop1", "fc2", "gelu2", "drop2", "fc3"),
                s.build(1).layers().stream().map(Layer::name).toList());
    }

    @Test
    void sameSeed_sameWeights_otherSeed_otherWeights() {
        ModelSpec s = ModelSpec.parse("mlp:10-5-2");
        Parameter a = s.build(1).parameters().get(0), b = s.build(1).parameters().get(0), c = s.build(2).parameters().get(0);
        assertEquals(0f, a.value().maxAbsDiff(b.value()));
        assertTrue(a.value().maxAbsDiff(c.value()) > 0);
    }

    @Test
    void badDescriptions_giveClearErrors() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ModelSpec.parse("mlp:784-x-10"))
                .getMessage().contains("'x' is not a number"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ModelSpec.parse("mlp:784-10?activation=relu"))
                .getMessage().contains("unknown model option 'activation'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ModelSpec.parse("mlp:784-10?act=swish"))
                .getMessage().contains("unknown activation 'swish'"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> ModelSpec.parse("{\"input\": 4, \"layers\": [{\"type\": \"dense\"}]}"))
                .getMessage().contains("positive units"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> ModelSpec.parse("/no/such/model.json"))
                .getMessage().contains("neither a shorthand"));
    }

    @Test
    void cost_countsFlopsAndBytes() {
        Sequential m = ModelSpec.parse("mlp:784-512-10").build(1);
        LayerCost c = m.cost();
        assertEquals(2L * (784 * 512 + 512 * 10) + 512 + 10 + 512, c.forwardFlopsPerSample());
        assertEquals(4L * m.parameterCount(), c.parameterBytes());
    }

    @Test
    void slicesBuiltApart_equalTheWholeModel() {
        ModelSpec s = ModelSpec.parse("mlp:20-16-12-4?dropout=0.1");
        Sequential whole = s.build(9);
        Sequential a = s.build(9, 0, 3), b = s.build(9, 3, s.layers().size());
        assertEquals(20, a.inputSize());
        assertEquals(16, b.inputSize());
        assertEquals(whole.parameterCount(), a.parameterCount() + b.parameterCount());
        List<Parameter> parts = new java.util.ArrayList<>(a.parameters());
        parts.addAll(b.parameters());
        for (int i = 0; i < parts.size(); i++) {
            assertEquals(whole.parameters().get(i).name(), parts.get(i).name());
            assertEquals(0f, whole.parameters().get(i).value().maxAbsDiff(parts.get(i).value()));
        }
    }
}
