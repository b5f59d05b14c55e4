package io.ringtmp.ring;

/** No plan satisfies the request (a bad manual cut, a model that does not fit the nodes' memory, a resume without a step every stage saved). Permanent. */
public final class PartitionException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public PartitionException(String message) {
        super(message);
    }
}
