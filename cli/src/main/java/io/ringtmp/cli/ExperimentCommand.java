package io.ringtmp.cli;

import io.ringtmp.experiments.Experiment;
import io.ringtmp.experiments.Experiments;
import io.ringtmp.experiments.Harness;
import io.ringtmp.experiments.Machine;
import io.ringtmp.experiments.Profile;
import io.ringtmp.experiments.RunContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code ringtmp experiment idle|progress|scaling|resilience|capacity|all --out DIR [--profile quick|full] [--resume]}. */
@Command(name = "experiment", mixinStandardHelpOptions = true,
        description = {"Runs an experiment's real launches and appends one JSON line per run to DIR/<experiment>.jsonl "
                + "(docs/experiments.md); 'ringtmp report DIR' turns them into report.md and report.html.",
                "Emulated devices need root; without it the runs go on 127.0.0.1 and each row's note says so."})
final class ExperimentCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "idle, progress, scaling, resilience, capacity or all.")
    String name;

    @Option(names = "--out", required = true, description = "Results directory.")
    Path out;

    @Option(names = "--profile", defaultValue = "quick", description = "quick (minutes on two cores) or full (default: ${DEFAULT-VALUE}).")
    String profile;

    @Option(names = "--resume", description = "Skip the runs already in DIR/<experiment>.jsonl (failed runs are run again).")
    boolean resume;

    @Override
    public Integer call() throws Exception {
        Profile p = Profile.parse(profile);
        var experiments = Experiments.named(name);
        Path runs = Files.createDirectories(out.resolve("runs"));
        // The launcher's own lines (node output, summaries) go to a log; the terminal gets the harness's progress.
        try (OutputStream logFile = Files.newOutputStream(out.resolve("launch.log"), java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.APPEND);
             PrintStream log = new PrintStream(logFile, true, StandardCharsets.UTF_8)) {
            RunContext ctx = new RunContext(runs, LaunchCommand.nodeCommand(), Machine.isRoot(), log);
            Harness h = new Harness(out, ctx, System.out);
            int failed = 0;
            for (Experiment e : experiments) {
                failed += h.run(e, p, resume).failed();
            }
            System.out.println("launcher output: " + out.resolve("launch.log") + "; report: ringtmp report " + out);
            return failed == 0 ? 0 : 1;
        }
    }
}
