package io.ringtmp.cli;

import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.Modes;
import io.ringtmp.node.Node;
import io.ringtmp.node.Time;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code ringtmp node --spec cluster.json --id N}: one node process of a cluster. */
@Command(name = "node", mixinStandardHelpOptions = true,
        description = {"Run node N of the cluster described by a spec file (the same file on every machine).",
                "Exit codes: 0 done (or stopped by SIGTERM after its current step), 3 a neighbour failed, 1 other errors (bad input, "
                        + "a peer that broke the protocol, another node's error), 70 a bug in RingTMP (with its stack trace)."})
public final class NodeCommand implements Callable<Integer> {
    @Option(names = "--spec", required = true, description = "Cluster spec (JSON); see docs/cluster-spec.md.")
    Path spec;

    @Option(names = "--id", required = true, description = "This node's id in the spec.")
    int id;

    @Option(names = "--prometheus-port", description = "Serve this node's metrics for Prometheus at http://HOST:PORT/metrics (HOST from the spec).")
    Integer prometheusPort;

    @Override
    public Integer call() throws Exception {
        ClusterSpec s = ClusterSpec.read(spec);
        s.node(id);
        CountDownLatch finished = new CountDownLatch(1);
        int[] code = {1};
        Node node = new Node(s, id, Time.SYSTEM, System.out, Modes.of(s.mode()));
        if (prometheusPort != null) {
            int port = node.metrics().servePrometheus(s.node(id).host(), prometheusPort);
            System.out.println("node " + id + ": Prometheus metrics at http://" + s.node(id).host() + ":" + port + "/metrics");
        }
        // SIGTERM: let the mode finish its current step and write its metrics, then exit with the
        // run's code (0 for a requested stop) rather than the JVM's 143 for a signal.
        Thread hook = new Thread(() -> {
            node.requestStop("SIGTERM");
            try {
                finished.await();
            } catch (InterruptedException ignored) {
                Thread.currentThread().interrupt();
            }
            System.out.flush();
            Runtime.getRuntime().halt(code[0]);
        }, "ringtmp-sigterm");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            code[0] = node.run();
        } catch (RuntimeException e) {
            if (!Main.isBadInput(e)) {
                // A bug here, not the user's input or a peer's: the whole trace, and an exit code of its own.
                System.out.println("node " + id + ": internal error (a bug in RingTMP; please report it with this trace):");
                e.printStackTrace(System.out);
                code[0] = Node.EXIT_BUG;
                return code[0];
            }
            throw e;
        } finally {
            node.close();
            try {
                // A normal end: the hook must not halt the JVM before other shutdown hooks run.
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException alreadyShuttingDown) {
                // SIGTERM arrived: the hook exits with the run's code once we count down.
            }
            finished.countDown();
        }
        return code[0];
    }
}
