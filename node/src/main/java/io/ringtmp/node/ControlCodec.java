package io.ringtmp.node;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.MessageKind;

import java.io.IOException;

/**
 * The one codec for a mode's control messages ({@link MessageKind#CONTROL}): each mode defines
 * its messages as records under one sealed interface annotated for Jackson's type names
 * ({@code @JsonTypeInfo(use = NAME, property = "type")} with {@code @JsonSubTypes}), and this
 * writes and reads them as JSON. A control message that does not read as one of them is the
 * sender's fault: a {@link ProtocolException} naming it.
 *
 * @param <T> the mode's sealed control type
 */
public final class ControlCodec<T> {
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES);
    private final Class<T> type;

    public ControlCodec(Class<T> type) {
        this.type = type;
    }

    /** {@code c} as the payload of a CONTROL message. */
    public byte[] encode(T c) {
        try {
            return JSON.writeValueAsBytes(c);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + c + " as JSON", e);
        }
    }

    /** A CONTROL message carrying {@code c}, from {@code sender} in run {@code runId}. */
    public Message message(int sender, long runId, T c) {
        return message(sender, runId, 0, c);
    }

    /** A CONTROL message of step (or sequence number) {@code step} carrying {@code c}. */
    public Message message(int sender, long runId, long step, T c) {
        return Message.control(MessageKind.CONTROL, sender, runId, step, encode(c));
    }

    /**
     * The control message {@code m} carries.
     *
     * @throws ProtocolException when {@code m} is not a CONTROL message holding one of {@code T}'s records
     */
    public T decode(Message m) {
        if (m.kind() != MessageKind.CONTROL) {
            throw new ProtocolException(m.sender(), "sent a " + m.kind() + " message where a control message was expected");
        }
        if (m.bytes() == null) {
            throw new ProtocolException(m.sender(), "sent an empty control message");
        }
        try {
            return JSON.readValue(m.bytes(), type);
        } catch (IOException e) {
            String text = new String(m.bytes(), 0, Math.min(m.bytes().length, 80), java.nio.charset.StandardCharsets.UTF_8);
            throw new ProtocolException(m.sender(), "sent a control message that is not a " + type.getSimpleName() + " ("
                    + (e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()) + "): " + text);
        }
    }
}
