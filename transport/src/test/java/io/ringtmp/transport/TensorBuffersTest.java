package io.ringtmp.transport;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TensorBuffersTest {
    @Test
    void take_afterGive_reusesTheArrayOfThatLengthOnly() {
        TensorBuffers b = TensorBuffers.pooled(2);
        float[] a = b.take(4096);
        b.give(a);
        assertNotSame(a, b.take(2048), "another length");
        assertSame(a, b.take(4096));
        assertNotSame(a, b.take(4096), "taken once, gone from the pool");
        assertEquals(4, b.taken());
        assertEquals(1, b.reused());
    }

    @Test
    void give_beyondMaxPerLength_dropsTheRest() {
        TensorBuffers b = TensorBuffers.pooled(2);
        float[] x = new float[1024];
        float[] y = new float[1024];
        float[] z = new float[1024];
        b.give(x);
        b.give(y);
        b.give(z);
        assertSame(x, b.take(1024));
        assertSame(y, b.take(1024));
        assertNotSame(z, b.take(1024), "the third was dropped");
    }

    @Test
    void give_smallOrNull_neverPooled() {
        TensorBuffers b = TensorBuffers.pooled(4);
        float[] small = new float[TensorBuffers.MIN_POOLED_FLOATS - 1];
        b.give(small);
        b.give((float[]) null);
        b.give((io.ringtmp.tensor.Tensor) null);
        assertNotSame(small, b.take(small.length));
    }

    @Test
    void unpooled_neverReuses() {
        TensorBuffers b = TensorBuffers.unpooled();
        float[] a = b.take(4096);
        b.give(a);
        assertNotSame(a, b.take(4096));
        assertThrows(IllegalArgumentException.class, () -> TensorBuffers.pooled(0));
    }
}
