package io.ringtmp.experiments;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * What a run needs from its surroundings.
 *
 * @param runsDir     where the launcher's run directories go
 * @param nodeCommand the command that starts one node process, before {@code --spec F --id i}
 * @param canEmulate  whether emulated devices are possible here (root); when false, runs that ask
 *                    for emulation run on loopback and say so in their note
 * @param log         where the launcher's own output goes
 */
public record RunContext(Path runsDir, List<String> nodeCommand, boolean canEmulate, PrintStream log) {
    public RunContext {
        nodeCommand = List.copyOf(nodeCommand);
    }
}
