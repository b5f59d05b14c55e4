package io.ringtmp.cli.bench;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A peer figure next to the peer's own published one for the same command on this machine
 * kind. A peer below {@link #THRESHOLD} of its figure ran below its real speed (a busy machine,
 * the first runs after installing python3-torch, a reference BLAS): a ratio against it would
 * flatter RingTMP, so none is reported.
 *
 * @param status     {@link Status}
 * @param measured   the peer's samples/s in this run (NaN when it failed)
 * @param reference  its published samples/s (NaN when there is none)
 * @param command    the peer command, normalised ({@link PeerCommand#toString()})
 * @param source     where the reference comes from, or why there is none
 */
public record PeerCheck(Status status, double measured, double reference, String command, String source) {
    /** Below this share of its published figure a peer counts as slowed down. */
    public static final double THRESHOLD = 0.8;

    /** The outcome. */
    public enum Status {
        /** At least {@link #THRESHOLD} of the published figure: ratios are fair. */
        OK,
        /** Below it: no ratio. */
        BELOW,
        /**
         * No published figure for this command or machine kind: the peer's speed cannot be
         * checked, so no ratio either (a peer at half its speed, as seen here, would double it).
         */
        UNCHECKED,
        /** The peer produced no figure. */
        FAILED
    }

    /** Checks {@code measured} against {@code reference} (NaN: none, {@code source} says why). */
    public static PeerCheck of(String command, double measured, double reference, String source) {
        Status s = Double.isNaN(measured) ? Status.FAILED
                : Double.isNaN(reference) ? Status.UNCHECKED
                : measured < THRESHOLD * reference ? Status.BELOW : Status.OK;
        return new PeerCheck(s, measured, reference, command, source);
    }

    /** Whether a ratio against this peer figure may be reported: only against a peer checked to run at its real speed. */
    public boolean ratioAllowed() {
        return status == Status.OK;
    }

    /** Why no ratio is reported against this figure, for a line like {@code ring async / DDP: no ratio (...)}; empty when one is. */
    public String noRatioReason() {
        return switch (status) {
            case OK -> "";
            case BELOW -> "the peer ran below 80% of its published figure";
            case UNCHECKED -> "the peer's figure could not be checked against a published one: " + source;
            case FAILED -> "the peer gave no figure";
        };
    }

    /** The measured figure over the reference (NaN without one). */
    public double fraction() {
        return measured / reference;
    }

    /**
     * One line for the log, e.g. {@code peer pytorch W1 2 threads: 16,000 samples/s, 55% of its
     * results.md figure 29,000: below 80%, no ratio reported (...)}.
     */
    public String line(String label) {
        String head = "peer pytorch " + label + ": ";
        return switch (status) {
            case FAILED -> head + "no figure (the peer failed)";
            case UNCHECKED -> String.format(Locale.ROOT, "%s%,.0f samples/s, unchecked: %s; no ratio reported (a peer not known to run "
                    + "at its real speed proves nothing: add the command's figures to the peer's results.md, or pass --peer-results FILE "
                    + "with them)", head, measured, source);
            case OK -> String.format(Locale.ROOT, "%s%,.0f samples/s, %.0f%% of its results.md figure %,.0f", head, measured,
                    100 * fraction(), reference);
            case BELOW -> String.format(Locale.ROOT, "%s%,.0f samples/s, %.0f%% of its results.md figure %,.0f: below %.0f%%, no ratio "
                    + "reported (is the machine busy? python3-torch just installed?)", head, measured, 100 * fraction(), reference,
                    100 * THRESHOLD);
        };
    }

    /** The {@code peerCheck} object of a results.json. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", status.name().toLowerCase(Locale.ROOT));
        m.put("command", command);
        m.put("samplesPerSec", Double.isNaN(measured) ? null : measured);
        m.put("referenceSamplesPerSec", Double.isNaN(reference) ? null : reference);
        m.put("fractionOfReference", Double.isNaN(measured) || Double.isNaN(reference) ? null : fraction());
        m.put("threshold", THRESHOLD);
        m.put("reference", source);
        return m;
    }
}
