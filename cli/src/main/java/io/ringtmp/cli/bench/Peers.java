package io.ringtmp.cli.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Starting the PyTorch peer scripts (../shared/peers/pytorch) the same way for every benchmark. */
public final class Peers {
    private Peers() {
    }

    /**
     * A process for {@code script} in {@code peerDir} with {@code args}, stderr merged into stdout.
     * Runs Debian's python3 (the one python3-torch installs into) when present, since a python3
     * earlier on the PATH may lack torch; and leaves the BLAS thread variables unset, because the
     * peer sets its own threads from its arguments.
     */
    public static ProcessBuilder script(Path peerDir, String script, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3");
        cmd.add(script);
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(peerDir.toFile()).redirectErrorStream(true);
        pb.environment().remove("OPENBLAS_NUM_THREADS");
        pb.environment().remove("OMP_NUM_THREADS");
        return pb;
    }
}
