package io.ringtmp.ring;

import io.ringtmp.train.TrainConfig;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.IntFunction;

/**
 * Node 0's start-up decision, a pure function of the join token: each node's speed (from its
 * measured layer times, or the spec's hint when times are estimated) and memory budget, the
 * memory model of the schedule and optimiser, and on resume the newest step every stage saved.
 * An infeasible partition or resume is a plan with its error set, which every node prints.
 */
final class RingPlanner {
    private RingPlanner() {
    }

    /**
     * @param entries       the join token's entries, node 0 first
     * @param profile       node 0's layer profile (names, parameter and activation sizes)
     * @param config        the run's training configuration
     * @param opts          the ring's options
     * @param speedHint     the spec's speed hint of a node, or null
     * @param stepsPerEpoch mini-batches per epoch of node 0's data
     * @param resume        whether to resume from the stages' checkpoints
     * @param checkpointDir where the checkpoints are (for the error text)
     */
    static RingPlan plan(List<RingControl.JoinEntry> entries, List<Partitioner.LayerProfile> profile, TrainConfig config,
                         RingOptions opts, IntFunction<Double> speedHint, long stepsPerEpoch, boolean resume, Path checkpointDir) {
        try {
            double reference = profile.stream().mapToDouble(Partitioner.LayerProfile::seconds).sum();
            List<Partitioner.NodeProfile> nodes = new ArrayList<>();
            for (RingControl.JoinEntry e : entries) {
                double total = e.layerSeconds().stream().mapToDouble(Double::doubleValue).sum();
                Double hint = speedHint.apply(e.id());
                // Measured layer times give each node's speed; with estimated ones, the spec's speed hint does.
                double speed = opts.profile().equals("estimate") ? (hint != null ? hint : 1) : total > 0 ? reference / total : 1;
                nodes.add(new Partitioner.NodeProfile(e.id(), speed, e.memoryBytes()));
            }
            int stages = entries.size();
            int stateCopies = switch (config.optimizer().kind()) {
                case SGD -> config.optimizer().momentum() > 0 ? 1 : 0;
                case ADAM -> 2;
            };
            int stashes = SchedulePolicy.of(opts.schedule()).keepsWeightVersions() ? opts.slots(0, stages) : 0;
            // Failover holds three sets of the stage's weights and optimiser state (two snapshots kept,
            // one for the next) and three of its predecessor's replica (counted as the stage's own
            // size; two kept, one being assembled): six copies of each (Replicas).
            int replicas = opts.failover() ? 6 * (1 + stateCopies) : 0;
            Partitioner.MemoryModel memory = new Partitioner.MemoryModel(2 + stateCopies + stashes + replicas, opts.slots(0, stages));
            long resumeStep = 0;
            Partitioner.Plan p;
            if (resume) {
                resumeStep = commonStep(entries, checkpointDir);
                List<Integer> sizes = new ArrayList<>();
                for (RingControl.JoinEntry e : entries) {
                    for (RingControl.SavedStage s : e.saved()) {
                        if (s.step() == resumeStep) {
                            sizes.add(s.to() - s.from());
                        }
                    }
                }
                p = Partitioner.manual(sizes, profile, nodes, memory);
            } else {
                p = Partitioner.plan(opts.partition(), profile, nodes, memory);
            }
            long all = config.epochs() * stepsPerEpoch;
            return new RingPlan(null, p.cuts(), resumeStep, stepsPerEpoch, all, config.maxSteps() > 0 ? Math.min(all, config.maxSteps()) : all,
                    p.stageSeconds().stream().map(s -> s * 1e3).toList(), p.stageBytes(), p.describe(profile),
                    profile.stream().map(Partitioner.LayerProfile::seconds).toList(), nodes.stream().map(Partitioner.NodeProfile::speed).toList(),
                    Partitioner.layerBytes(profile, memory), nodes.stream().map(Partitioner.NodeProfile::memoryBytes).toList());
        } catch (PartitionException e) {
            return RingPlan.failed(e.getMessage());
        }
    }

    /** The newest step at which every stage saved a checkpoint. */
    static long commonStep(List<RingControl.JoinEntry> entries, Path checkpointDir) {
        Set<Long> common = null;
        StringBuilder have = new StringBuilder();
        for (RingControl.JoinEntry e : entries) {
            Set<Long> steps = new TreeSet<>();
            e.saved().forEach(s -> steps.add(s.step()));
            have.append(" node ").append(e.id()).append(": ").append(steps);
            if (common == null) {
                common = new TreeSet<>(steps);
            } else {
                common.retainAll(steps);
            }
        }
        if (common == null || common.isEmpty()) {
            throw new PartitionException("resume: no step at which every stage saved a checkpoint in " + checkpointDir
                    + " (saved steps per node:" + have + ")");
        }
        return ((TreeSet<Long>) common).last();
    }
}
