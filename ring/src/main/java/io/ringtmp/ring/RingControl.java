package io.ringtmp.ring;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.ringtmp.node.ControlCodec;

import java.util.List;

/**
 * The ring's control messages, all travelling from node i to node i+1 (docs/ring.md):
 * {@link Join} and {@link Plan} go round once at start-up, {@link Save} at each checkpoint,
 * {@link Done} at the end.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({@JsonSubTypes.Type(value = RingControl.Join.class, name = "join"),
        @JsonSubTypes.Type(value = RingControl.Plan.class, name = "plan"),
        @JsonSubTypes.Type(value = RingControl.Save.class, name = "save"),
        @JsonSubTypes.Type(value = RingControl.Done.class, name = "done")})
sealed interface RingControl {
    ControlCodec<RingControl> CODEC = new ControlCodec<>(RingControl.class);

    /** The join token: each node, in ring order from node 0, adds what the planner needs of it. */
    record Join(List<JoinEntry> entries) implements RingControl {
    }

    /** Node 0's plan, passed round so that every node builds its stage. */
    record Plan(RingPlan plan) implements RingControl {
    }

    /** Every stage writes its checkpoint of {@code step}. */
    record Save(long step) implements RingControl {
    }

    /** The run is over after {@code step}. */
    record Done(long step) implements RingControl {
    }

    /**
     * One node's entry in the join token.
     *
     * @param id           the node
     * @param layerSeconds its time per microbatch for each layer of the model (measured or estimated)
     * @param memoryBytes  its memory budget
     * @param saved        its checkpoints, when resuming
     */
    record JoinEntry(int id, List<Double> layerSeconds, long memoryBytes, List<SavedStage> saved) {
        public JoinEntry {
            layerSeconds = List.copyOf(layerSeconds);
            saved = List.copyOf(saved);
        }
    }

    /** A checkpoint a node holds: of stage layers [from, to) at {@code step}. */
    record SavedStage(long step, int from, int to) {
    }
}
