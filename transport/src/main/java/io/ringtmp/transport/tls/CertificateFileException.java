package io.ringtmp.transport.tls;

/**
 * A certificate or key file is missing, unreadable, malformed or does not fit the others (a key
 * of another certificate, a certificate of another CA, another node's id). The message names the
 * file and what is wrong with it. Permanent: fix the file.
 */
public final class CertificateFileException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CertificateFileException(String message) {
        super(message);
    }

    public CertificateFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
