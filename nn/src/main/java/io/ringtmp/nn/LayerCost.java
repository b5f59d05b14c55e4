package io.ringtmp.nn;

/**
 * What a layer costs, for the partitioner and for memory planning. FLOPs count a multiply-add
 * as two.
 *
 * @param forwardFlopsPerSample     FLOPs of the forward pass for one sample
 * @param backwardFlopsPerSample    FLOPs of the backward pass (input and parameter gradients)
 * @param parameterBytes            bytes of parameters (gradients and optimiser state are extra)
 * @param activationBytesPerSample  bytes kept per sample between forward and backward (output and state)
 */
public record LayerCost(long forwardFlopsPerSample, long backwardFlopsPerSample, long parameterBytes,
                        long activationBytesPerSample) {
    public static final LayerCost ZERO = new LayerCost(0, 0, 0, 0);

    public LayerCost plus(LayerCost o) {
        return new LayerCost(forwardFlopsPerSample + o.forwardFlopsPerSample,
                backwardFlopsPerSample + o.backwardFlopsPerSample, parameterBytes + o.parameterBytes,
                activationBytesPerSample + o.activationBytesPerSample);
    }

    public long trainingFlopsPerSample() {
        return forwardFlopsPerSample + backwardFlopsPerSample;
    }
}
