package io.ringtmp.ring;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.ringtmp.node.ControlCodec;

import java.util.List;

/**
 * The ring's control messages, all travelling from node i to node i+1 (docs/ring.md):
 * {@link Join} and {@link Plan} go round once at start-up, {@link Save} at each checkpoint,
 * {@link Done} at the end. After a node failed, or one asked to rejoin, {@link Repair} and
 * {@link Resume} go round the next membership (docs/resilience.md); {@link NodeFailed},
 * {@link NodeJoins} and {@link Excluded} are a node's notes to itself, never sent.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({@JsonSubTypes.Type(value = RingControl.Join.class, name = "join"),
        @JsonSubTypes.Type(value = RingControl.Plan.class, name = "plan"),
        @JsonSubTypes.Type(value = RingControl.Save.class, name = "save"),
        @JsonSubTypes.Type(value = RingControl.Done.class, name = "done"),
        @JsonSubTypes.Type(value = RingControl.NodeFailed.class, name = "node-failed"),
        @JsonSubTypes.Type(value = RingControl.NodeJoins.class, name = "node-joins"),
        @JsonSubTypes.Type(value = RingControl.Excluded.class, name = "excluded"),
        @JsonSubTypes.Type(value = RingControl.Repair.class, name = "repair"),
        @JsonSubTypes.Type(value = RingControl.Resume.class, name = "resume")})
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

    /** This node's own note that node {@code node} failed (queued by the node runtime's callback; never on the wire). */
    record NodeFailed(int node) implements RingControl {
    }

    /** This node's own note that failed-over node {@code node} asks to rejoin (never on the wire). */
    record NodeJoins(int node) implements RingControl {
    }

    /** This node's own note, during start-up, that the ring runs without it: it asks to rejoin (never on the wire). */
    record Excluded(int reportedBy) implements RingControl {
    }

    /**
     * The repair token, from the first member of the old ring that stays, round the next
     * membership: the dead nodes and the rejoining nodes it knows of, and the steps every member
     * it passed can roll back to (each member keeps those it holds a snapshot, and where it takes
     * layers over, a replica, of; a rejoining node holds nothing and keeps them all).
     *
     * @param epoch  the new membership's epoch
     * @param joined failed-over nodes that come back
     * @param base   to a rejoining node only: the ring it joins (else null)
     * @param checkpoint whether the steps are of the stages' checkpoints: the replicas cannot repair
     *               this (a dead node's buddy died too, or no replica step is common), so every
     *               member rolls back to a checkpoint instead
     */
    record Repair(long epoch, List<Integer> dead, List<Integer> joined, List<Long> steps, Base base, boolean checkpoint) implements RingControl {
        public Repair {
            dead = List.copyOf(dead);
            joined = List.copyOf(joined);
            steps = List.copyOf(steps);
        }
    }

    /**
     * The first member's decision, passed round: the ring goes on from {@code step} without
     * {@code dead}, with {@code joined}, from the replicas or ({@code checkpoint}) the checkpoints.
     */
    record Resume(long epoch, List<Integer> dead, List<Integer> joined, long step, boolean checkpoint) implements RingControl {
        public Resume {
            dead = List.copyOf(dead);
            joined = List.copyOf(joined);
        }
    }

    /**
     * What a rejoining node needs of the ring it joins, which it missed: the membership before the
     * change and the start-up's plan.
     */
    record Base(long epoch, List<Integer> members, List<Integer> cuts, RingPlan plan, long modelParameters) {
        public Base {
            members = List.copyOf(members);
            cuts = List.copyOf(cuts);
        }

        Membership membership() {
            return new Membership(epoch, members, cuts);
        }
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
