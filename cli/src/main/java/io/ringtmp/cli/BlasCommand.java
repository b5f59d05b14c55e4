package io.ringtmp.cli;

import io.ringtmp.tensor.Blas;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code ringtmp blas}: which matrix-product kernel this machine gives RingTMP, and why. */
@Command(name = "blas", mixinStandardHelpOptions = true,
        description = {"Print the BLAS RingTMP uses here: the library file loaded and its kernels, or the Java kernel "
                + "and why (no OpenBLAS, or a slow native BLAS measured at start-up), and what to install or set for full speed. "
                + "With -Dringtmp.blas=per-shape (RINGTMP_JAVA_OPTS) the kernel is chosen per product shape: "
                + "the choices this machine has cached follow, one a line.",
                "Exit code 0 with OpenBLAS or RingTMP's Vector API kernel, 3 with netlib's slow Java sgemm."})
public final class BlasCommand implements Callable<Integer> {
    @Option(names = "--forget", description = "Delete the cached per-shape kernel choices, so that the next runs time the kernels again "
            + "(e.g. after timings on a busy machine).")
    boolean forget;

    @Option(names = "--time", split = ",", description = "Choose (time, or read from the cache) the kernels of these workloads' "
            + "training steps now, e.g. W1,W2, at each --threads count, and list them: what a trainer otherwise does at start-up.")
    java.util.List<io.ringtmp.train.Workload> time;

    @Option(names = "--threads", split = ",", defaultValue = "1,2", description = "Thread counts for --time (default: ${DEFAULT-VALUE}).")
    java.util.List<Integer> threads;

    @Override
    public Integer call() throws IOException {
        System.out.println(Blas.describe());
        Path cache = Blas.kernelCacheFile();
        if (cache != null && forget) {
            System.out.println(Files.deleteIfExists(cache) ? "deleted " + cache : "no " + cache + " to delete");
        }
        if (time != null && Blas.backend() != Blas.Backend.PER_SHAPE) {
            System.out.println("--time: kernels are chosen per shape only with -Dringtmp.blas=per-shape; nothing to time");
        } else if (time != null) {
            for (int t : threads) {
                Blas.setThreads(t);
                for (io.ringtmp.train.Workload w : time) {
                    w.spec().build(1).prepareKernels(w.batch());
                }
            }
            Blas.setThreads(1);
        }
        if (cache != null) {
            if (forget && time == null) {
                return 0;
            } else if (Files.isRegularFile(cache)) {
                for (String line : Files.readAllLines(cache, StandardCharsets.UTF_8)) {
                    if (!line.startsWith("#") && !line.isBlank()) {
                        System.out.println("kernel " + line);
                    }
                }
            } else {
                System.out.println("no kernel choices cached yet (" + cache + ")");
            }
        }
        return Blas.backend() == Blas.Backend.JAVA_NETLIB ? 3 : 0;
    }
}
