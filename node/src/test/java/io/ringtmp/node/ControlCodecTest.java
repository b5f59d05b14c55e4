package io.ringtmp.node;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.MessageKind;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ControlCodecTest {
    @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
    @JsonSubTypes({@JsonSubTypes.Type(value = Word.Go.class, name = "go"), @JsonSubTypes.Type(value = Word.Steps.class, name = "steps")})
    sealed interface Word {
        record Go(long step) implements Word {
        }

        record Steps(List<Long> steps, String error) implements Word {
        }
    }

    private static final ControlCodec<Word> CODEC = new ControlCodec<>(Word.class);

    @Test
    void records_roundTrip() {
        assertEquals(new Word.Go(12), CODEC.decode(CODEC.message(3, 9, new Word.Go(12))));
        assertEquals(new Word.Steps(List.of(4L, 8L), null), CODEC.decode(CODEC.message(3, 9, new Word.Steps(List.of(4L, 8L), null))));
        Message m = CODEC.message(3, 9, new Word.Go(1));
        assertEquals(MessageKind.CONTROL, m.kind());
        assertEquals(3, m.sender());
        assertEquals(9, m.runId());
    }

    @Test
    void whatIsNotOneOfTheRecords_isTheSendersProtocolError() {
        for (String text : new String[]{"bye", "{\"type\":\"stop\"}", "{\"type\":\"go\"}", "{\"type\":\"go\",\"step\":\"x\"}"}) {
            Message m = Message.control(MessageKind.CONTROL, 4, 9, 0, text.getBytes(StandardCharsets.UTF_8));
            ProtocolException e = assertThrows(ProtocolException.class, () -> CODEC.decode(m), text);
            assertEquals(4, e.peer());
            assertTrue(e.getMessage().startsWith("node 4 broke the protocol: sent a control message that is not a Word"), e.getMessage());
        }
        assertThrows(ProtocolException.class, () -> CODEC.decode(Message.control(MessageKind.CREDIT, 4, 9, 0, new byte[1])));
    }
}
