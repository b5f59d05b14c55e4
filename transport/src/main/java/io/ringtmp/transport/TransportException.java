package io.ringtmp.transport;

/**
 * A transport failure. {@link #transientFailure()} decides the retry: true when trying again may
 * help (peer not up yet, connection lost, back-pressure timeout), false when it will not
 * (authentication refused, wrong run, oversized or malformed message, closed transport).
 */
public final class TransportException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final boolean transientFailure;

    public TransportException(String message, boolean transientFailure) {
        super(message);
        this.transientFailure = transientFailure;
    }

    public TransportException(String message, boolean transientFailure, Throwable cause) {
        super(message, cause);
        this.transientFailure = transientFailure;
    }

    public boolean transientFailure() {
        return transientFailure;
    }
}
