package io.ringtmp.ring;

import io.ringtmp.data.EpochOrder;
import io.ringtmp.data.Synthetic;
import io.ringtmp.data.TrainTest;
import io.ringtmp.nn.ModelSpec;
import io.ringtmp.nn.Parameter;
import io.ringtmp.nn.optim.OptimizerConfig;
import io.ringtmp.tensor.Rng;
import io.ringtmp.tensor.Tensor;
import io.ringtmp.train.TrainConfig;
import io.ringtmp.train.Trainer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Stages run in one thread, microbatches through every stage forward then backward (the gpipe
 * order), equal the single-node trainer: same seed, data order and mini-batch, 20 updates.
 */
class StageTest {
    private static final TrainTest DATA = Synthetic.blobsSplit(5, 1024, 128, 20, 4, 1.5);

    @Test
    void gpipeOrder_threeStagesFourMicrobatches_matchesSingleNodeTrainer() {
        ModelSpec spec = ModelSpec.parse("mlp:20-16-12-4");
        long seed = 11;
        int batch = 32, micro = 8, steps = 20;
        OptimizerConfig sgd = OptimizerConfig.sgd(0.9, false, 0);
        TrainConfig cfg = new TrainConfig(spec, 5, batch, 0.05, sgd, "constant", seed, 1, steps);
        Trainer reference = new Trainer(cfg, DATA);
        reference.run();

        Partitioner.Plan plan = Partitioner.plan("manual:2,2,1", Partitioner.estimate(spec.build(1), micro, 1e9),
                List.of(new Partitioner.NodeProfile(0, 1, Long.MAX_VALUE), new Partitioner.NodeProfile(1, 1, Long.MAX_VALUE),
                        new Partitioner.NodeProfile(2, 1, Long.MAX_VALUE)), new Partitioner.MemoryModel(3, 4));
        List<Stage> stages = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
            stages.add(new Stage(spec.build(Rng.derive(seed, "model"), plan.cuts().get(k), plan.cuts().get(k + 1)), sgd,
                    micro, batch / micro, k == 0, k == 2));
        }
        EpochOrder order = new EpochOrder(Rng.derive(seed, "data"), DATA.train().size());
        int perEpoch = DATA.train().size() / batch;
        Tensor[] inputs = new Tensor[batch / micro];
        int[][] labels = new int[batch / micro][micro];
        for (int s = 0; s < steps; s++) {
            int[] perm = order.permutation(s / perEpoch);
            int base = (s % perEpoch) * batch;
            for (int m = 0; m < batch / micro; m++) {
                inputs[m] = Tensor.zeros(micro, 20);
                DATA.train().gatherInto(perm, base + m * micro, micro, inputs[m], labels[m]);
            }
            Tensor[][] outputs = new Tensor[3][batch / micro];
            for (int m = 0; m < batch / micro; m++) {
                Tensor x = inputs[m];
                for (int k = 0; k < 3; k++) {
                    x = stages.get(k).forward(m, x);
                    outputs[k][m] = x;
                }
            }
            for (int m = 0; m < batch / micro; m++) {
                stages.get(2).lossAndBackward(m, outputs[2][m], labels[m], 0, 1f / batch);
                Tensor d = stages.get(2).inputGradient(m);
                d = stages.get(1).backward(m, d);
                assertEquals(null, stages.get(0).backward(m, d), "the first stage computes no input gradient");
            }
            for (Stage st : stages) {
                st.step(0.05);
            }
        }
        List<Parameter> mine = new ArrayList<>();
        stages.forEach(st -> mine.addAll(st.layers().parameters()));
        List<Parameter> ref = reference.model().parameters();
        assertEquals(ref.size(), mine.size());
        float worst = 0;
        for (int i = 0; i < ref.size(); i++) {
            assertEquals(ref.get(i).name(), mine.get(i).name());
            worst = Math.max(worst, ref.get(i).value().maxAbsDiff(mine.get(i).value()));
        }
        assertTrue(worst <= 1e-5, "max abs weight difference after " + steps + " updates: " + worst);
    }

    @Test
    void weightStashing_backwardUsesTheWeightsItsForwardUsed_updateLandsOnTheNewest() {
        OptimizerConfig sgd = OptimizerConfig.sgd(0, false, 0);
        // A middle stage (fc2 relu2 fc3) that stashes, and a twin that sees no update between forward and backward.
        Stage stashing = fc2ToFc3Stage(sgd, 2, false, true);
        Stage twin = fc2ToFc3Stage(sgd, 2, false, false);
        Tensor x0 = input();
        Tensor x1 = Tensor.of(new float[]{0.3f, 2, -1, 1, 0, -0.5f, 1, 2, 0, 1}, 2, 5);
        Tensor dy = outputGradient();
        stashing.forward(0, x0);
        stashing.forward(1, x1);
        twin.forward(1, x1);
        Tensor expected = twin.backward(1, dy).copy(); // with the weights of x1's forward
        stashing.backward(0, dy);
        stashing.stepKeepingVersions(0.5); // slot 1 is between forward and backward
        float[] updated = stashing.currentWeights().get(0).toArray();
        Tensor got = stashing.backward(1, dy);
        assertTrue(expected.maxAbsDiff(got) == 0, "the backward of slot 1 ran with its forward's weights");
        assertEquals(1, stashing.versionsKept());
        // The same first microbatch on a stage without stashing, updated in place: the same weights, bit for bit.
        Stage inPlace = fc2ToFc3Stage(sgd, 2, false, false);
        inPlace.forward(0, x0);
        inPlace.backward(0, dy);
        inPlace.step(0.5);
        assertTrue(java.util.Arrays.equals(updated, inPlace.layers().parameters().get(0).value().toArray()),
                "the update written into another version equals the in-place update");
        stashing.syncParameters();
        assertTrue(java.util.Arrays.equals(updated, stashing.layers().parameters().get(0).value().toArray()),
                "after a sync the parameters hold the newest weights");
        assertTrue(stashing.currentWeights().get(0) == stashing.layers().parameters().get(0).value(), "and are current again");
        assertTrue(twin.layers().parameters().get(0).value().maxAbsDiff(stashing.layers().parameters().get(0).value()) > 0,
                "the update changed the weights");
    }

    @Test
    void weightStashing_allocatesOneVersionPerSlotUpFrontAndNoneWhileTraining() {
        OptimizerConfig sgd = OptimizerConfig.sgd(0.9, false, 0);
        int slots = 3;
        Stage stage = fc2ToFc3Stage(sgd, slots, false, true);
        assertEquals(slots, stage.versionsAllocated(), "one version per slot, before any microbatch");
        Tensor x = input();
        Tensor dy = outputGradient();
        // Async steady state with every slot taken: forward into the free slot, then the oldest
        // slot's backward and an update while the other slots are pending (each on another version).
        for (int s = 0; s < slots; s++) {
            stage.forward(s, x);
        }
        for (int mb = 0; mb < 20; mb++) {
            int oldest = mb % slots;
            stage.backward(oldest, dy);
            stage.stepKeepingVersions(0.01);
            stage.forward(oldest, x);
        }
        assertTrue(stage.versionsKept() >= 20, "every update stashed a version: " + stage.versionsKept());
        assertEquals(slots, stage.versionsAllocated(), "no version allocated while training");
        assertThrows(IllegalStateException.class, stage::syncParameters, "slots are pending");
        assertEquals(0, fc2ToFc3Stage(sgd, slots, true, true).versionsAllocated(),
                "the last stage, whose backward follows its forward at once, allocates none up front");
    }

    @Test
    void syncParameters_atADrainedPoint_changesNothingThatFollows() {
        OptimizerConfig sgd = OptimizerConfig.sgd(0.9, true, 0);
        Stage synced = fc2ToFc3Stage(sgd, 3, false, true);
        Stage reference = fc2ToFc3Stage(sgd, 3, false, true);
        Tensor dy = outputGradient();
        for (int round = 0; round < 3; round++) {
            for (Stage st : List.of(synced, reference)) {
                for (int s = 0; s < 3; s++) {
                    st.forward(s, Tensor.of(new float[]{1, -2, 3, 0.5f + s, -1, 2, 0, 1, 1 + round, -1}, 2, 5));
                }
                for (int mb = 0; mb < 9; mb++) { // every slot pending at each update
                    int oldest = mb % 3;
                    st.backward(oldest, dy);
                    st.stepKeepingVersions(0.05);
                    st.forward(oldest, Tensor.of(new float[]{0.5f, mb, 3, -1, 0, 2, 1, 1, -2, round}, 2, 5));
                }
                for (int s = 0; s < 3; s++) { // drain
                    st.backward((9 + s) % 3, dy);
                    st.stepKeepingVersions(0.05);
                }
            }
            synced.syncParameters(); // the reference never syncs until the end
        }
        reference.syncParameters();
        for (int i = 0; i < synced.layers().parameters().size(); i++) {
            assertTrue(java.util.Arrays.equals(reference.layers().parameters().get(i).value().toArray(),
                    synced.layers().parameters().get(i).value().toArray()), "parameter " + i);
        }
        assertEquals(3, synced.versionsAllocated(), "no version allocated");
    }

    /** fc2 relu2 fc3 (layers 2..4) of mlp:6-5-4-3 as a stage of 2-row microbatches, not the first. */
    private static Stage fc2ToFc3Stage(OptimizerConfig optimizer, int slots, boolean last, boolean stashing) {
        return new Stage(ModelSpec.parse("mlp:6-5-4-3").build(7, 2, 5), optimizer, 2, slots, false, last, stashing);
    }

    /** A 2-row input of that stage (5 features). */
    private static Tensor input() {
        return Tensor.of(new float[]{1, -2, 3, 0.5f, -1, 2, 0, 1, 1, -1}, 2, 5);
    }

    /** A gradient of that stage's 2 x 3 output. */
    private static Tensor outputGradient() {
        return Tensor.of(new float[]{0.1f, -0.2f, 0.3f, -0.1f, 0.2f, 0.05f}, 2, 3);
    }
}
