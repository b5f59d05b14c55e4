package io.ringtmp.tensor;

import java.util.SplittableRandom;

/**
 * A seeded random source whose sequence depends only on its seed (the same on every JDK), so
 * runs are reproducible. Streams for separate uses (a node, a stage, a layer, an epoch) are made
 * with {@link #derive(long, String)} from one run seed rather than by sharing one generator.
 * Not thread-safe: one owner per instance.
 */
public final class Rng {
    private final SplittableRandom random;
    private final long seed;
    private double spareGaussian;
    private boolean hasSpare;

    public Rng(long seed) {
        this.seed = seed;
        this.random = new SplittableRandom(seed);
    }

    /** A seed for the stream named {@code tag} under {@code seed}; the same inputs give the same seed. */
    public static long derive(long seed, String tag) {
        long h = seed ^ 0x9E3779B97F4A7C15L;
        for (int i = 0; i < tag.length(); i++) {
            h = mix(h + tag.charAt(i));
        }
        return mix(h);
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    public long seed() {
        return seed;
    }

    /** Uniform in [0, 1). */
    public double nextDouble() {
        return random.nextDouble();
    }

    public float nextFloat() {
        return (float) random.nextDouble();
    }

    /** Uniform in [0, bound). */
    public int nextInt(int bound) {
        return random.nextInt(bound);
    }

    public long nextLong() {
        return random.nextLong();
    }

    /** Standard normal, by the Box-Muller transform (fixed algorithm, unlike the JDK's). */
    public double nextGaussian() {
        if (hasSpare) {
            hasSpare = false;
            return spareGaussian;
        }
        double u1, u2;
        do {
            u1 = random.nextDouble();
        } while (u1 <= Double.MIN_NORMAL);
        u2 = random.nextDouble();
        double r = Math.sqrt(-2.0 * Math.log(u1));
        spareGaussian = r * Math.sin(2 * Math.PI * u2);
        hasSpare = true;
        return r * Math.cos(2 * Math.PI * u2);
    }

    /** Shuffles {@code a} in place (Fisher-Yates). */
    public void shuffle(int[] a) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
