package io.ringtmp.ring;

/** No partition satisfies the request (a bad manual cut, or a model that does not fit the nodes' memory). Permanent. */
public final class PartitionException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public PartitionException(String message) {
        super(message);
    }
}
