package io.ringtmp.launch.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Runs the system tools (ip, tc) and quotes arguments for {@code sh}. Stateless; any thread. */
public final class Shell {
    /** No setup command takes this long unless the machine is wedged. */
    private static final long COMMAND_TIMEOUT_MS = 20_000;

    private Shell() {
    }

    /** Exit status and merged stdout/stderr of a finished command. */
    public record Result(List<String> command, int exitCode, String output) {
        public boolean ok() {
            return exitCode == 0;
        }

        /** The output when the command succeeded; otherwise an exception naming {@code what} failed and why. */
        public String orThrow(String what) {
            if (!ok()) {
                String out = output.strip().replace('\n', ' ');
                throw new IllegalStateException(what + ": '" + String.join(" ", command) + "' exited with " + exitCode
                        + (out.isEmpty() ? "" : ": " + out));
            }
            return output;
        }
    }

    /** Runs {@code command} to completion; a command that cannot start or times out reads as exit code -1. */
    public static Result run(List<String> command) {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.PIPE);
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            byte[] out;
            try (InputStream in = p.getInputStream()) {
                out = in.readAllBytes();
            }
            if (!p.waitFor(COMMAND_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                return new Result(command, -1, "timed out after " + COMMAND_TIMEOUT_MS + " ms");
            }
            return new Result(command, p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Result(command, -1, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(command, -1, "interrupted");
        }
    }

    /** The executable {@code tool} on PATH or in the sbin folders (root's tools live there even when PATH lacks them). */
    public static Optional<Path> which(String tool) {
        String path = System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin:/usr/bin:/bin";
        for (String dir : path.split(":")) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, tool);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** {@code s} as one single-quoted sh word: safe for any content, including quotes and newlines. */
    public static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
