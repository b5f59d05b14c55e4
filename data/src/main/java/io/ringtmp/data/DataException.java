package io.ringtmp.data;

/**
 * A data file, data directory or data-set spec is wrong. Permanent: retrying without changing
 * the input gives the same error. The message names the file (or spec) and says what was
 * expected and what was found, e.g. {@code /data/mnist/train-images-idx3-ubyte: truncated:
 * expected 47040000 bytes of data, found 1000}.
 */
public class DataException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public DataException(String message) {
        super(message);
    }

    public DataException(String message, Throwable cause) {
        super(message, cause);
    }
}
