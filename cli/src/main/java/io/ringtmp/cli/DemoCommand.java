package io.ringtmp.cli;

import io.ringtmp.train.Workload;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code ringtmp demo}: the README's first command. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Fetch MNIST, then train W1 (784-512-512-10, SGD 0.05 with a cosine decay, momentum 0.9, batch 128) for 3 epochs with RingTMP "
                + "on 4 local node processes (async schedule), printing accuracy per epoch and each node's idle time.",
                "The same as: ringtmp data fetch mnist && ringtmp launch --nodes 4 --mode ring --schedule async "
                        + "--model mlp:784-512-512-10 --data mnist --epochs 3 --lr-schedule cosine"})
public final class DemoCommand implements Callable<Integer> {
    @Option(names = "--epochs", defaultValue = "3", description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--nodes", defaultValue = "4", description = "Node processes (default: ${DEFAULT-VALUE}).")
    int nodes;

    @Option(names = "--schedule", defaultValue = "async", description = "gpipe, 1f1b or async (default: ${DEFAULT-VALUE}).")
    String schedule;

    @Override
    public Integer call() {
        int code = Main.commandLine().execute("data", "fetch", "mnist");
        if (code != 0) {
            return code;
        }
        return Main.commandLine().execute("launch", "--nodes", Integer.toString(nodes), "--mode", "ring", "--schedule", schedule,
                "--model", Workload.W1.model(), "--data", "mnist", "--epochs", Integer.toString(epochs), "--batch",
                Integer.toString(Workload.W1.batch()), "--lr", Double.toString(Workload.W1.lr()), "--optimizer", "sgd", "--momentum", "0.9", "--lr-schedule", "cosine");
    }
}
