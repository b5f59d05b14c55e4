package io.ringtmp.nn;

/**
 * Takes a parameter's gradient as soon as a backward pass has finished part of it: the
 * single-node trainer applies the optimiser's update there, inside the product that made the
 * gradient, while the block is still in cache ({@code Optimizer.Step}), instead of in a pass of
 * its own after the whole backward.
 *
 * <p>Order of calls, within one backward: a layer calls {@link #consume} only after it has read
 * the parameter's values for the last time in that pass (a dense layer computes its input
 * gradient first), once per disjoint block of elements, possibly from several compute threads at
 * once; then {@link #consumed} once the whole parameter has been handed over. Parameters never
 * handed over are left to whoever owns the consumer (it updates them after the pass).
 */
public interface GradientConsumer {
    /** Elements {@code [from, to)} (flat, row-major) of {@code p}'s gradient are final for this pass. */
    void consume(Parameter p, int from, int to);

    /** Every element of {@code p} has been passed to {@link #consume}. */
    void consumed(Parameter p);
}
