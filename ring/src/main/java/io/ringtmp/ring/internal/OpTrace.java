package io.ringtmp.ring.internal;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Arrays;

/**
 * A stage's timeline: every forward, backward, update and wait of its loop thread, written at
 * the end as a Chrome trace ({@code chrome://tracing}, Perfetto's UI) with one process per node,
 * so the traces of all nodes of a run can be loaded together and lined up: timestamps are
 * microseconds of the wall clock (the nodes of one machine share it; across machines they are
 * as close as the machines' clocks).
 *
 * <p>About 32 bytes per operation in memory (4 longs). Not thread-safe: the loop thread only.
 */
public final class OpTrace {
    /** What the loop thread did. */
    public enum Op {
        FORWARD("forward"), BACKWARD("backward"), UPDATE("update"), IDLE_SLOTS_FULL("idle: every slot taken"),
        IDLE_NO_INPUT("idle: awaiting input");

        final String label;

        Op(String label) {
            this.label = label;
        }
    }

    private final long originNanos;
    private final long originEpochMicros;
    private long[] events = new long[4 * 1024];
    private int count;

    /** @param nowNanos the node's clock now (the same clock later passed to {@link #add}) */
    public OpTrace(long nowNanos) {
        Instant now = Instant.now();
        this.originNanos = nowNanos;
        this.originEpochMicros = now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }

    /** Records {@code op} on microbatch {@code g} (-1 for none) from {@code startNanos} to {@code endNanos}. */
    public void add(Op op, long g, long startNanos, long endNanos) {
        if (4 * (count + 1) > events.length) {
            events = Arrays.copyOf(events, events.length * 2);
        }
        int i = 4 * count++;
        events[i] = op.ordinal();
        events[i + 1] = g;
        events[i + 2] = startNanos;
        events[i + 3] = endNanos;
    }

    public int size() {
        return count;
    }

    /**
     * Writes the trace to {@code file} (through a temporary file and a rename), as node
     * {@code node} labelled {@code label}; {@code microbatches} turns a microbatch number g into
     * its step and index for the events' arguments.
     */
    public void write(Path file, int node, String label, int microbatches) {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Op[] ops = Op.values();
        try (JsonGenerator j = new JsonFactory().createGenerator(tmp.toFile(), JsonEncoding.UTF8)) {
            j.writeStartObject();
            j.writeStringField("displayTimeUnit", "ms");
            j.writeArrayFieldStart("traceEvents");
            j.writeStartObject();
            j.writeStringField("name", "process_name");
            j.writeStringField("ph", "M");
            j.writeNumberField("pid", node);
            j.writeObjectFieldStart("args");
            j.writeStringField("name", label);
            j.writeEndObject();
            j.writeEndObject();
            for (int e = 0; e < count; e++) {
                int i = 4 * e;
                Op op = ops[(int) events[i]];
                long g = events[i + 1];
                j.writeStartObject();
                j.writeStringField("name", op.label);
                j.writeStringField("ph", "X");
                j.writeNumberField("pid", node);
                j.writeNumberField("tid", 0);
                j.writeNumberField("ts", originEpochMicros + (events[i + 2] - originNanos) / 1e3);
                j.writeNumberField("dur", (events[i + 3] - events[i + 2]) / 1e3);
                if (g >= 0) {
                    j.writeObjectFieldStart("args");
                    j.writeNumberField("microbatch", g);
                    j.writeNumberField("step", g / microbatches);
                    j.writeNumberField("index", g % microbatches);
                    j.writeEndObject();
                }
                j.writeEndObject();
            }
            j.writeEndArray();
            j.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the trace " + tmp, e);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move the trace to " + file, e);
        }
    }
}
