package io.ringtmp.launch;

/**
 * The emulated cluster cannot be set up here: not root, a tool or cgroup controller is missing,
 * or a setup command failed. Permanent: retrying on the same machine gives the same answer. The
 * message is one line that names what is missing and what to do, fit to print and exit.
 */
public final class EmulationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public EmulationException(String message) {
        super(message);
    }

    public EmulationException(String message, Throwable cause) {
        super(message, cause);
    }
}
