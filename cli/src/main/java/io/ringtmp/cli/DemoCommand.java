package io.ringtmp.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code ringtmp demo}: the README's first command. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Fetch MNIST and train W1 (784-512-512-10, SGD 0.05, momentum 0.9, batch 128) for 3 epochs, printing accuracy per epoch.")
public final class DemoCommand implements Callable<Integer> {
    @Option(names = "--epochs", defaultValue = "3", description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Override
    public Integer call() {
        return Main.commandLine().execute("train", "--mode", "local", "--model", "mlp:784-512-512-10", "--data", "mnist",
                "--epochs", Integer.toString(epochs), "--batch", "128", "--lr", "0.05", "--optimizer", "sgd", "--momentum", "0.9");
    }

}
