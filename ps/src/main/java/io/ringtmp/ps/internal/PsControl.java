package io.ringtmp.ps.internal;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.ringtmp.node.ControlCodec;

import java.util.List;

/** The parameter server's control messages (the data travels as PULL, PARAMS and PUSH messages). */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({@JsonSubTypes.Type(value = PsControl.Saved.class, name = "saved")})
sealed interface PsControl {
    ControlCodec<PsControl> CODEC = new ControlCodec<>(PsControl.class);

    /**
     * Resume: a server's saved steps, sent to every worker ({@link ShardCheckpoints#savedSteps}),
     * or, with {@code error} set, why it cannot resume.
     */
    record Saved(List<Long> steps, String error) implements PsControl {
        public Saved {
            steps = List.copyOf(steps);
        }
    }
}
