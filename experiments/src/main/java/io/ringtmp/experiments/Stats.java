package io.ringtmp.experiments;

import java.util.List;

/** Median and spread over repetitions. */
record Stats(int n, double median, double min, double max) {
    static Stats of(List<Double> values) {
        if (values.isEmpty()) {
            throw new IllegalArgumentException("no values");
        }
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = v.length;
        double med = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        return new Stats(n, med, v[0], v[n - 1]);
    }
}
