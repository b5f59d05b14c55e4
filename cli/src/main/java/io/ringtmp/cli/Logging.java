package io.ringtmp.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;

/**
 * The process's one logging setup, read from {@code logging.properties}: java.util.logging, which
 * RingTMP's {@code System.Logger}s, Netty and netlib all use, quiet by default (warnings and
 * errors, one line each). {@code RINGTMP_LOG=INFO} (any {@link Level} name) turns it up; a
 * {@code java.util.logging.config.file} or {@code .class} given to the JVM replaces it.
 */
final class Logging {
    private Logging() {
    }

    static void configure() {
        if (System.getProperty("java.util.logging.config.file") != null || System.getProperty("java.util.logging.config.class") != null) {
            return;
        }
        try (InputStream in = Logging.class.getResourceAsStream("logging.properties")) {
            LogManager.getLogManager().readConfiguration(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read RingTMP's logging.properties: " + e.getMessage(), e);
        }
        String level = System.getenv("RINGTMP_LOG");
        if (level != null && !level.isBlank()) {
            Level l;
            try {
                l = Level.parse(level.strip().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                System.err.println("ringtmp: RINGTMP_LOG=" + level + " is not a level (SEVERE, WARNING, INFO, FINE, FINER, FINEST, ALL, OFF); keeping WARNING");
                return;
            }
            Logger.getLogger("").setLevel(l); // The root logger is held by the LogManager: the level stays.
        }
    }
}
