package io.ringtmp.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A directory of one part's numbered checkpoints, {@code step-<t>.rtck} (t in 9 digits), as a
 * ring stage and a parameter-server shard each keep them: where step t's file is, which steps
 * are there (by name, without reading the files), and pruning to the newest few.
 */
public final class StepCheckpoints {
    private static final Pattern NAME = Pattern.compile("step-(\\d+)\\.rtck");

    private StepCheckpoints() {
    }

    /** The checkpoint of step {@code step} in {@code dir}. */
    public static Path file(Path dir, long step) {
        return dir.resolve(String.format("step-%09d.rtck", step));
    }

    /** The steps of the checkpoint files in {@code dir}, by name, oldest first (none when it is absent). */
    public static List<Long> steps(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        TreeSet<Long> out = new TreeSet<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Matcher m = NAME.matcher(f.getFileName().toString());
                if (m.matches()) {
                    out.add(Long.parseLong(m.group(1)));
                }
            }
        } catch (IOException e) {
            throw new CheckpointException("cannot list checkpoints in " + dir + ": " + e.getMessage());
        }
        return new ArrayList<>(out);
    }

    /** Deletes all but the {@code keep} newest checkpoints in {@code dir}. */
    public static void keepNewest(Path dir, int keep) {
        List<Long> steps = steps(dir);
        for (int i = 0; i + keep < steps.size(); i++) {
            try {
                Files.deleteIfExists(file(dir, steps.get(i)));
            } catch (IOException e) {
                // An old checkpoint left behind costs disk, not correctness.
            }
        }
    }
}
