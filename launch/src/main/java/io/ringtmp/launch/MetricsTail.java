package io.ringtmp.launch;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/** Follows one node's metrics file as it is written: each call returns the lines completed since the last. */
final class MetricsTail {
    private final Path file;
    private long offset;
    private final java.io.ByteArrayOutputStream partial = new java.io.ByteArrayOutputStream();

    MetricsTail(Path file) {
        this.file = file;
    }

    /** The complete lines written since the last call; none while the file does not exist yet. */
    List<String> poll() {
        List<String> lines = new ArrayList<>();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
            int n;
            while ((n = ch.read(buf, offset)) > 0) {
                offset += n;
                buf.flip();
                while (buf.hasRemaining()) {
                    byte b = buf.get();
                    if (b == '\n') {
                        lines.add(partial.toString(StandardCharsets.UTF_8));
                        partial.reset();
                    } else {
                        partial.write(b);
                    }
                }
                buf.clear();
            }
        } catch (NoSuchFileException e) {
            return lines;
        } catch (IOException e) {
            // Read again on the next call: the node may be rewriting it.
        }
        return lines;
    }
}
