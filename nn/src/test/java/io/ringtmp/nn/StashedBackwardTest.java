package io.ringtmp.nn;

import io.ringtmp.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Backward with stashed values equals backward with those values copied in, and leaves the weights alone. */
class StashedBackwardTest {
    @Test
    void backwardWithValues_matchesCopyingThemIn_andKeepsTheCurrentWeights() {
        ModelSpec spec = ModelSpec.parse("mlp:5-4-3");
        Sequential a = spec.build(3), b = spec.build(3);
        List<Tensor> old = new ArrayList<>();
        for (Parameter p : a.parameters()) {
            old.add(p.value().copy());
            p.value().scaleInPlace(1.5f); // "newer" weights in a
        }
        for (int i = 0; i < old.size(); i++) {
            b.parameters().get(i).value().copyFrom(old.get(i)); // b holds the old weights outright
        }
        Tensor x = Tensor.of(new float[]{1, -1, 2, 0.5f, 0, -2, 1, 1, 0, 3}, 2, 5);
        Tensor dy = Tensor.of(new float[]{0.1f, -0.3f, 0.2f, 0.05f, 0.1f, -0.1f}, 2, 3);
        Activations actsA = a.newActivations(2), actsB = b.newActivations(2);
        b.forward(x, actsB, true);
        Tensor expected = b.backward(dy, actsB, true).copy();
        // a's forward state must be the old one too: run forward with the old weights, then restore the new.
        List<Tensor> newer = new ArrayList<>();
        for (int i = 0; i < old.size(); i++) {
            newer.add(a.parameters().get(i).value().copy());
            a.parameters().get(i).value().copyFrom(old.get(i));
        }
        a.forward(x, actsA, true);
        for (int i = 0; i < old.size(); i++) {
            a.parameters().get(i).value().copyFrom(newer.get(i));
        }
        Tensor got = a.backward(dy, actsA, true, old);
        assertArrayEquals(expected.toArray(), got.toArray(), 0f);
        for (int i = 0; i < old.size(); i++) {
            assertArrayEquals(newer.get(i).toArray(), a.parameters().get(i).value().toArray(), 0f, "weights untouched");
            assertArrayEquals(b.parameters().get(i).grad().toArray(), a.parameters().get(i).grad().toArray(), 0f, "same gradients");
        }
        assertEquals(4, old.size());
        assertThrows(IllegalArgumentException.class, () -> a.backward(dy, actsA, true, old.subList(0, 2)));
    }
}
