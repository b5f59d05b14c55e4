package io.ringtmp.ps;

import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.NodeContext;
import io.ringtmp.node.NodeProgram;
import io.ringtmp.ps.internal.ServerProgram;
import io.ringtmp.ps.internal.WorkerProgram;
import io.ringtmp.transport.TransportConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * The parameter-server mode ({@code "mode": "ps"}): nodes {@code 0..S-1} are servers, each
 * holding one key range of the parameters ({@link KeyRanges}) with its optimiser state
 * ({@link ServerShard}); nodes {@code S..N-1} are workers, each with the whole model and
 * {@code batch / W} rows of every global batch, talking to the servers through a
 * {@link PsClient}. Servers watch their workers and workers their servers (extra peers of the
 * node), so a failed server stops every worker with exit code 3.
 *
 * <p>At the end, worker 0 writes the final weights as {@code model.rtck} (the parameters by
 * name, as {@code Trainer.saveCheckpoint} names them) into the spec's {@code checkpointDir}, or
 * else into its {@code metricsDir}. With a {@code checkpointDir}, each server also saves its
 * shard (values and optimiser state) as {@code server-<s>/step-<t>.rtck} every
 * {@code checkpointEvery} steps and at the end, and {@code resume} restarts every node from the
 * newest step all servers saved. See docs/parameter-server.md.
 */
public final class ParameterServer {
    /** File name of the final model worker 0 writes. */
    public static final String MODEL_FILE = "model.rtck";

    /** Creates a server or a worker, by node id. */
    public static final NodeProgram.Factory FACTORY = new Mode();

    /** The parameter server's factory (a service: {@link io.ringtmp.node.Modes}). */
    public static final class Mode implements NodeProgram.Factory {
        @Override
        public String mode() {
            return ClusterSpec.Mode.PS.id();
        }

        @Override
        public java.util.Set<String> optionKeys() {
            java.util.Set<String> k = new java.util.HashSet<>(io.ringtmp.node.TrainingOptions.KEYS);
            k.addAll(PsOptions.KEYS);
            return k;
        }

        @Override
        public long maxMessageBytes(ClusterSpec spec) {
            io.ringtmp.node.TrainingOptions.config(spec);
            return TransportConfig.maxMessageBytesFor(PsOptions.of(spec).chunkFloats(), 64);
        }

        @Override
        public List<Integer> extraPeers(ClusterSpec spec, int id) {
            PsOptions o = PsOptions.of(spec);
            List<Integer> peers = new ArrayList<>();
            if (o.isServer(id)) {
                for (int w = 0; w < o.workers(); w++) {
                    peers.add(o.workerNode(w));
                }
            } else {
                for (int s = 0; s < o.servers(); s++) {
                    peers.add(s);
                }
            }
            return peers;
        }

        @Override
        public NodeProgram create(NodeContext ctx) {
            PsOptions o = PsOptions.of(ctx.spec());
            return o.isServer(ctx.id()) ? new ServerProgram(ctx, o) : new WorkerProgram(ctx, o);
        }
    }

    private ParameterServer() {
    }
}
