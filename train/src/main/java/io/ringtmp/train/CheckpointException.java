package io.ringtmp.train;

/** A checkpoint could not be written, or a file is not a valid checkpoint (the message says which and why). */
public final class CheckpointException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
