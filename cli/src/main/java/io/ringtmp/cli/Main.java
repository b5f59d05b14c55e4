package io.ringtmp.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ringtmp} command: one entry point, one subcommand per job. */
@Command(name = "ringtmp", mixinStandardHelpOptions = true, version = "RingTMP 0.1.0",
        description = "Ring pipeline model-parallel training (and a parameter server to compare it with).",
        subcommands = {DemoCommand.class, DataCommand.class, TrainCommand.class, BlasCommand.class, NodeCommand.class, LaunchCommand.class, CertsCommand.class, BenchCommand.class, ExperimentCommand.class, ReportCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        // Quiet by default: netlib announces its choice at INFO, and RingTMP prints it in its own words.
        Logging.configure();
        System.exit(commandLine().execute(args));
    }

    /** The configured command line: one-line errors for bad options, non-zero exits. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setParameterExceptionHandler((ex, a) -> {
            CommandLine c = ex.getCommandLine();
            c.getErr().println("ringtmp: " + ex.getMessage() + " (see '" + c.getCommandSpec().qualifiedName() + " --help')");
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            // Bad input (options, data files, model files, checkpoints) is the user's to fix: one line, no trace.
            if (ex instanceof IllegalArgumentException || ex instanceof IllegalStateException || isBadInput(ex)) {
                c.getErr().println("ringtmp: " + ex.getMessage());
                return 1;
            }
            throw ex;
        });
        return cl;
    }

    /**
     * Whether {@code e} is about the user's input (a spec, data, model or checkpoint file: one of
     * RingTMP's own exceptions, or an I/O error) rather than a bug.
     */
    static boolean isBadInput(Throwable e) {
        return e instanceof java.io.UncheckedIOException
                || e.getClass().getSimpleName().endsWith("Exception") && e.getClass().getPackageName().startsWith("io.ringtmp");
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
