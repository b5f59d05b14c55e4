package io.ringtmp.experiments;

import java.util.Locale;

/** How much of an experiment to run: {@code quick} (minutes on two cores) or {@code full} (the grid, repeated). */
public enum Profile {
    QUICK, FULL;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Profile parse(String s) {
        for (Profile p : values()) {
            if (p.id().equalsIgnoreCase(s)) {
                return p;
            }
        }
        throw new IllegalArgumentException("--profile must be quick or full, got " + s);
    }
}
