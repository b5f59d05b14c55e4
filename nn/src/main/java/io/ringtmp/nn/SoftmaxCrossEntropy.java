package io.ringtmp.nn;

import io.ringtmp.tensor.ShapeException;
import io.ringtmp.tensor.Tensor;

/**
 * Softmax followed by cross-entropy against integer class labels, fused so that it is
 * numerically stable (log-sum-exp with the row maximum subtracted) and its gradient is simply
 * {@code softmax - onehot}.
 */
public final class SoftmaxCrossEntropy {
    private SoftmaxCrossEntropy() {
    }

    /**
     * Returns the <em>sum</em> over rows of {@code -log softmax(logits)[label]} and writes
     * {@code dLogits = gradScale · (softmax(logits) - onehot(label))}. For the mean loss of a
     * batch of B, pass {@code gradScale = 1/B}; a microbatch of a larger batch passes 1/B of the
     * whole batch, so accumulated gradients equal those of the whole batch.
     *
     * @param labels      labels of the rows are {@code labels[labelOffset .. labelOffset+rows)}
     * @param dLogits     same shape as logits; may be null to compute the loss alone
     */
    public static double lossAndGradInto(Tensor logits, int[] labels, int labelOffset, float gradScale, Tensor dLogits) {
        int rows = logits.rows(), classes = logits.cols();
        if (dLogits != null) {
            logits.requireSameShape("softmax cross-entropy gradient", dLogits);
        }
        if (labelOffset < 0 || labelOffset + rows > labels.length) {
            throw new ShapeException("softmax cross-entropy: " + rows + " rows of logits but labels ["
                    + labelOffset + ", " + (labelOffset + rows) + ") outside an array of " + labels.length);
        }
        float[] z = logits.data();
        double total = 0;
        for (int r = 0; r < rows; r++) {
            int base = logits.offset() + r * classes;
            int label = labels[labelOffset + r];
            if (label < 0 || label >= classes) {
                throw new IllegalArgumentException("label " + label + " of row " + r + " is outside [0, " + classes + ")");
            }
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < classes; j++) {
                max = Math.max(max, z[base + j]);
            }
            double sum = 0;
            for (int j = 0; j < classes; j++) {
                sum += Math.exp((double) z[base + j] - max);
            }
            double logSum = Math.log(sum);
            total += logSum - ((double) z[base + label] - max);
            if (dLogits != null) {
                float[] d = dLogits.data();
                int dbase = dLogits.offset() + r * classes;
                for (int j = 0; j < classes; j++) {
                    double p = Math.exp((double) z[base + j] - max - logSum);
                    d[dbase + j] = (float) ((p - (j == label ? 1 : 0)) * gradScale);
                }
            }
        }
        return total;
    }

    /** Rows whose largest logit is at the label. */
    public static int countCorrect(Tensor logits, int[] labels, int labelOffset) {
        int rows = logits.rows(), classes = logits.cols(), correct = 0;
        float[] z = logits.data();
        for (int r = 0; r < rows; r++) {
            int base = logits.offset() + r * classes, best = 0;
            for (int j = 1; j < classes; j++) {
                if (z[base + j] > z[base + best]) {
                    best = j;
                }
            }
            if (best == labels[labelOffset + r]) {
                correct++;
            }
        }
        return correct;
    }
}
