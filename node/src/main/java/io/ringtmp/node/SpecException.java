package io.ringtmp.node;

/** A cluster spec is malformed or inconsistent; the message names the field and what is wrong. Permanent. */
public final class SpecException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public SpecException(String message) {
        super(message);
    }

    public SpecException(String message, Throwable cause) {
        super(message, cause);
    }
}
