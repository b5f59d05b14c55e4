package io.ringtmp.nn;

import io.ringtmp.tensor.Rng;
import io.ringtmp.tensor.Tensor;

/**
 * Inverted dropout: in training each element is kept with probability 1-p and scaled by
 * 1/(1-p), so evaluation is the identity. The mask lives in the caller's state buffer. The
 * random stream is the layer's own, seeded from the model seed, so a run is reproducible.
 */
public final class Dropout implements Layer {
    private final String name;
    private final float rate;
    private final Rng rng;

    public Dropout(String name, double rate, Rng rng) {
        if (!(rate >= 0 && rate < 1)) {
            throw new IllegalArgumentException("layer " + name + ": dropout rate must be in [0, 1), got " + rate);
        }
        this.name = name;
        this.rate = (float) rate;
        this.rng = rng;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public LayerSpec spec() {
        return LayerSpec.dropout(rate);
    }

    public float rate() {
        return rate;
    }

    @Override
    public int outputSize(int inputSize) {
        return inputSize;
    }

    @Override
    public int stateSize(int inputSize) {
        return inputSize;
    }

    @Override
    public void forward(Tensor x, Tensor y, Tensor state, boolean training) {
        if (!training || rate == 0f) {
            y.copyFrom(x);
            state.fill(1f);
            return;
        }
        float keep = 1f / (1f - rate);
        float[] a = x.data(), b = y.data(), m = state.data();
        int ao = x.offset(), bo = y.offset(), mo = state.offset();
        for (int i = 0, n = x.size(); i < n; i++) {
            float mask = rng.nextDouble() < rate ? 0f : keep;
            m[mo + i] = mask;
            b[bo + i] = a[ao + i] * mask;
        }
    }

    @Override
    public void backward(Tensor x, Tensor y, Tensor state, Tensor dy, Tensor dx) {
        if (dx == null) {
            return;
        }
        float[] g = dy.data(), m = state.data(), o = dx.data();
        int go = dy.offset(), mo = state.offset(), oo = dx.offset();
        for (int i = 0, n = dy.size(); i < n; i++) {
            o[oo + i] = g[go + i] * m[mo + i];
        }
    }

    @Override
    public LayerCost cost(int inputSize) {
        return new LayerCost(2L * inputSize, inputSize, 0, 8L * inputSize);
    }
}
