package io.ringtmp.ps.internal;

import io.ringtmp.nn.ModelSpec;
import io.ringtmp.ps.Consistency;
import io.ringtmp.ps.KeyRanges;
import io.ringtmp.ps.PsOptions;
import io.ringtmp.ps.ServerShard;
import io.ringtmp.train.Checkpoint;
import io.ringtmp.train.CheckpointException;
import io.ringtmp.train.Provenance;
import io.ringtmp.train.StepCheckpoints;
import io.ringtmp.train.TrainConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Checkpoints of the servers' shards: {@code DIR/server-<s>/step-<t>.rtck} (a {@link Checkpoint}:
 * the shard of {@link ServerShard#toCheckpoint}, with the run's {@link #identity} and the step in
 * its header). The checkpoint of step t is the shard once every worker has pushed steps
 * {@code 0..t-1}: under bsp exactly the single-node trainer's state after t updates; under asp
 * and ssp it also holds whatever faster workers pushed beyond t-1 by then.
 *
 * <p>A server keeps its {@link #keep newest two} (three under asp and ssp), so that after a crash
 * at any moment all servers still share a step: under bsp no worker pushes step t to any server
 * before every server has answered its pull of t, which each does only after saving t, so the
 * servers are at most one checkpoint apart; under asp and ssp a server's slowest clock may run up
 * to two steps ahead of another's (a worker's push of t reaches one server while the other has
 * only its push of t-2 for certain), which is two checkpoints when they are one step apart.
 *
 * <p>Resume: each server lists the steps it holds ({@link #savedSteps}, checking every file
 * against the run's identity) and sends the list to every worker ({@link PsControl.Saved}); each worker
 * takes the newest step in every list ({@link #commonStep}), the same on every worker, and makes
 * its first pull of that step; a server restores that step's shard on the first pull.
 *
 * <p>Stateless; the methods touch only the files and shards they are given, on the caller's thread.
 */
public final class ShardCheckpoints {
    private ShardCheckpoints() {
    }

    /** The checkpoint of server {@code server} at step {@code step}. */
    public static Path file(Path dir, int server, long step) {
        return StepCheckpoints.file(serverDir(dir, server), step);
    }

    static Path serverDir(Path dir, int server) {
        return dir.resolve("server-" + server);
    }

    /** Checkpoints a server keeps: two under bsp, three under asp and ssp (see the class comment). */
    public static int keep(Consistency c) {
        return c == Consistency.BSP ? 2 : 3;
    }

    /**
     * The header fields every parameter-server file starts with (a shard's checkpoint, worker 0's
     * final weights): its kind, the model, seed, batch, optimiser, S, W and consistency.
     */
    static Map<String, Object> runHeader(String kind, TrainConfig config, PsOptions options) {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("kind", kind);
        h.put("model", config.model().toJson());
        h.put("seed", config.seed());
        h.put("batchSize", config.batchSize());
        h.put("optimizer", config.optimizer().kind().name());
        h.put("servers", options.servers());
        h.put("workers", options.workers());
        h.put("consistency", options.consistency().id());
        return h;
    }

    /**
     * What a shard's checkpoint must share with a run that resumes from it, compared key by key:
     * the model, seed, batch, optimiser, servers, workers, consistency, chunking and this server's
     * key range. (The learning rate and its schedule, momentum, epochs, maxSteps and staleness may
     * change.)
     */
    public static Map<String, Object> identity(TrainConfig config, PsOptions options, KeyRanges ranges, int server) {
        Map<String, Object> h = runHeader("ps-shard", config, options);
        h.put("chunkFloats", options.chunkFloats());
        h.put("server", server);
        h.put("keys", ranges.total());
        h.put("from", ranges.from(server));
        h.put("to", ranges.to(server));
        return h;
    }

    /**
     * Writes server {@code server}'s shard as its checkpoint of {@code step} and deletes all but
     * its {@code keep} newest.
     *
     * @return the file written
     */
    public static Path save(Path dir, int server, long step, ServerShard shard, Map<String, Object> identity,
                            int staleness, int keep) {
        Map<String, Object> h = new LinkedHashMap<>(identity);
        h.put("step", step);
        h.put("staleness", staleness);
        h.put("provenance", Provenance.current());
        Path f = file(dir, server, step);
        Checkpoint.write(f, shard.toCheckpoint(h));
        StepCheckpoints.keepNewest(serverDir(dir, server), keep);
        return f;
    }

    /**
     * The steps server {@code server} can resume from, oldest first: its files in {@code dir}
     * that read back whole. A torn or corrupt file is skipped, with a line to {@code log}.
     *
     * @throws CheckpointException when a file was saved by a run of another identity (servers,
     *                             model, chunking, ...): resuming from the others would be wrong
     */
    public static List<Long> savedSteps(Path dir, int server, Map<String, Object> identity, Consumer<String> log) {
        List<Long> out = new ArrayList<>();
        for (long step : StepCheckpoints.steps(serverDir(dir, server))) {
            Path f = file(dir, server, step);
            Checkpoint cp;
            try {
                cp = Checkpoint.read(f);
            } catch (CheckpointException e) {
                log.accept("server " + server + ": skipping " + f + ": " + e.getMessage());
                continue;
            }
            check(cp, f, step, identity);
            out.add(step);
        }
        return out;
    }

    /**
     * Restores server {@code server}'s checkpoint of {@code step} into {@code shard} (which has
     * taken no push), after checking it against {@code identity}.
     *
     * @return the file read
     */
    public static Path restore(Path dir, int server, long step, ServerShard shard, Map<String, Object> identity) {
        Path f = file(dir, server, step);
        Checkpoint cp = Checkpoint.read(f);
        check(cp, f, step, identity);
        shard.restore(cp, f.toString());
        return f;
    }

    /** Refuses a checkpoint whose header differs from {@code identity} or whose step is not its name's, naming both values. */
    static void check(Checkpoint cp, Path f, long step, Map<String, Object> identity) {
        Map<String, Object> h = cp.header();
        for (Map.Entry<String, Object> e : identity.entrySet()) {
            Object saved = h.get(e.getKey());
            if (!same(e.getKey(), saved, e.getValue())) {
                throw new CheckpointException(f + " was saved with " + e.getKey() + " " + saved + ", this run has "
                        + e.getValue() + ": resume with the run's options, or use another checkpointDir");
            }
        }
        if (!(h.get("step") instanceof Number n) || n.longValue() != step) {
            throw new CheckpointException(f + " holds step " + h.get("step") + ", its name says " + step);
        }
    }

    private static boolean same(String key, Object saved, Object expected) {
        if (saved == null) {
            return false;
        }
        if (String.valueOf(saved).equals(String.valueOf(expected))) {
            return true;
        }
        if (key.equals("model")) {
            // The same model may be spelt differently.
            try {
                return ModelSpec.fromJson(String.valueOf(saved), "checkpoint").equals(ModelSpec.fromJson(String.valueOf(expected), "run"));
            } catch (IllegalArgumentException e) {
                return false;
            }
        }
        return false;
    }

    /**
     * The step a resumed run starts from: the newest step every server saved.
     *
     * @param savedByServer the steps each server holds, server s at index s
     * @throws CheckpointException when no step is in every list, naming {@code dir} and each
     *                             server's steps
     */
    public static long commonStep(Path dir, List<List<Long>> savedByServer) {
        TreeSet<Long> common = null;
        StringBuilder have = new StringBuilder();
        for (int s = 0; s < savedByServer.size(); s++) {
            List<Long> steps = savedByServer.get(s);
            have.append(s == 0 ? "" : "; ").append("server ").append(s).append(": ").append(steps);
            if (common == null) {
                common = new TreeSet<>(steps);
            } else {
                common.retainAll(steps);
            }
        }
        if (common == null || common.isEmpty()) {
            throw new CheckpointException("resume: no step at which every server saved its shard in " + dir + " (saved steps: "
                    + have + ")");
        }
        return common.last();
    }
}
