package io.ringtmp.cli;

import io.ringtmp.tensor.Blas;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** {@code ringtmp blas}: which matrix-product kernel this machine gives RingTMP, and why. */
@Command(name = "blas", mixinStandardHelpOptions = true,
        description = {"Print the BLAS RingTMP uses here: the library file loaded and its kernels, or the Java kernel "
                + "and why (no OpenBLAS, or a slow native BLAS measured at start-up), and what to install or set for full speed.",
                "Exit code 0 with OpenBLAS or RingTMP's Vector API kernel, 3 with netlib's slow Java sgemm."})
public final class BlasCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.out.println(Blas.describe());
        return Blas.backend() == Blas.Backend.JAVA_NETLIB ? 3 : 0;
    }
}
