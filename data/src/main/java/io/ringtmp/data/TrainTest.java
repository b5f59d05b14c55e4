package io.ringtmp.data;

import java.util.Objects;

/** A training set and its held-out test set, with the same feature size and classes. */
public record TrainTest(Dataset train, Dataset test) {
    public TrainTest {
        Objects.requireNonNull(train, "train");
        Objects.requireNonNull(test, "test");
        if (train.featureSize() != test.featureSize() || train.numClasses() != test.numClasses()) {
            throw new IllegalArgumentException("train " + train + " and test " + test
                    + " differ in feature size or number of classes");
        }
    }
}
