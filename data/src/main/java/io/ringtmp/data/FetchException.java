package io.ringtmp.data;

/**
 * A data set could not be obtained: the download tool is missing, failed or timed out. Unlike
 * its parent {@link DataException} this may go away on retry (network back, tool installed);
 * the message says how to supply the files by hand. A file that was obtained but fails its
 * checksum is a plain {@link DataException}, not this.
 */
public class FetchException extends DataException {
    private static final long serialVersionUID = 1L;

    public FetchException(String message) {
        super(message);
    }

    public FetchException(String message, Throwable cause) {
        super(message, cause);
    }
}
