package io.ringtmp.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ringtmp.tensor.Tensor;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * A saved training state: named tensors (weights and optimiser state) and a JSON header (model,
 * config, step, provenance).
 *
 * <p>File layout: the 8 bytes {@code RTMPCKPT}, an int version, an int header length and the
 * UTF-8 JSON header, then for each tensor listed in the header its floats little-endian, then a
 * CRC32C (8 bytes, big-endian) of everything before it. {@link #write} writes to a temporary
 * file in the same directory, forces it to disk and renames it over the target, so a crash
 * leaves either the old checkpoint or the new one, never a torn file; {@link #read} refuses a
 * file whose checksum, magic, version or sizes are wrong, naming the file.
 *
 * @param header  free-form metadata (must be JSON-serialisable); "tensors" is reserved
 * @param tensors tensors by name, in order
 */
public record Checkpoint(Map<String, Object> header, Map<String, Tensor> tensors) {
    private static final byte[] MAGIC = "RTMPCKPT".getBytes(StandardCharsets.US_ASCII);
    private static final int VERSION = 1;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The usual file name inside a checkpoint directory. */
    public static final String FILE_NAME = "checkpoint.rtck";

    public Checkpoint {
        header = new LinkedHashMap<>(header);
        tensors = new LinkedHashMap<>(tensors);
    }

    /** Atomically writes {@code cp} to {@code file} (creating its directory). */
    public static void write(Path file, Checkpoint cp) {
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            Map<String, Object> h = new LinkedHashMap<>(cp.header);
            List<Map<String, Object>> list = new ArrayList<>();
            for (var e : cp.tensors.entrySet()) {
                list.add(Map.of("name", e.getKey(), "shape", e.getValue().shape()));
            }
            h.put("tensors", list);
            byte[] json = JSON.writeValueAsBytes(h);
            tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
            CRC32C crc = new CRC32C();
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                ByteBuffer head = ByteBuffer.allocate(16 + json.length);
                head.put(MAGIC).putInt(VERSION).putInt(json.length).put(json).flip();
                crc.update(head.duplicate());
                writeFully(ch, head);
                ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
                for (Tensor t : cp.tensors.values()) {
                    float[] d = t.data();
                    for (int i = t.offset(), end = t.offset() + t.size(); i < end; ) {
                        int n = Math.min(end - i, buf.capacity() / 4);
                        buf.clear();
                        buf.asFloatBuffer().put(d, i, n);
                        buf.limit(4 * n);
                        crc.update(buf.duplicate());
                        writeFully(ch, buf);
                        i += n;
                    }
                }
                ByteBuffer tail = ByteBuffer.allocate(8).putLong(crc.getValue()).flip();
                writeFully(ch, tail);
                ch.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
            tmp = null;
        } catch (IOException e) {
            throw new CheckpointException("cannot write checkpoint " + file + ": " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // The write already failed; a stray temp file is the lesser problem.
                }
            }
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** Reads and verifies a checkpoint. */
    @SuppressWarnings("unchecked")
    public static Checkpoint read(Path file) {
        long size;
        try {
            size = Files.size(file);
        } catch (NoSuchFileException e) {
            throw new CheckpointException("no checkpoint at " + file);
        } catch (IOException e) {
            throw new CheckpointException("cannot read checkpoint " + file + ": " + e.getMessage(), e);
        }
        if (size < 24) {
            throw new CheckpointException("checkpoint " + file + " is truncated: " + size + " bytes");
        }
        verifyChecksum(file, size);
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 20))) {
            byte[] magic = new byte[8];
            in.readFully(magic);
            if (!Arrays.equals(magic, MAGIC)) {
                throw new CheckpointException("checkpoint " + file + " does not start with RTMPCKPT: not a RingTMP checkpoint");
            }
            int version = in.readInt();
            if (version != VERSION) {
                throw new CheckpointException("checkpoint " + file + " has format version " + version + ", this build reads " + VERSION);
            }
            int headerLen = in.readInt();
            if (headerLen < 2 || headerLen > size - 24) {
                throw new CheckpointException("checkpoint " + file + " has a header length of " + headerLen + " in a file of " + size + " bytes");
            }
            byte[] json = new byte[headerLen];
            in.readFully(json);
            Map<String, Object> header = JSON.readValue(json, LinkedHashMap.class);
            List<Map<String, Object>> list = (List<Map<String, Object>>) header.remove("tensors");
            if (list == null) {
                list = List.of();
            }
            long expected = 16L + headerLen + 8;
            List<int[]> shapes = new ArrayList<>();
            for (Map<String, Object> t : list) {
                int[] shape = ((List<Number>) t.get("shape")).stream().mapToInt(Number::intValue).toArray();
                shapes.add(shape);
                long n = 1;
                for (int d : shape) {
                    n *= d;
                }
                expected += 4 * n;
            }
            if (expected != size) {
                throw new CheckpointException("checkpoint " + file + " should be " + expected
                        + " bytes for the tensors its header lists, but is " + size);
            }
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            byte[] bytes = new byte[1 << 20];
            for (int k = 0; k < shapes.size(); k++) {
                Tensor t = Tensor.zeros(shapes.get(k));
                float[] d = t.data();
                for (int i = 0; i < d.length; ) {
                    int n = Math.min(d.length - i, bytes.length / 4);
                    in.readFully(bytes, 0, 4 * n);
                    ByteBuffer.wrap(bytes, 0, 4 * n).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(d, i, n);
                    i += n;
                }
                tensors.put((String) list.get(k).get("name"), t);
            }
            return new Checkpoint(header, tensors);
        } catch (JsonProcessingException e) {
            throw new CheckpointException("checkpoint " + file + " has a corrupt header: " + e.getOriginalMessage(), e);
        } catch (IOException | RuntimeException e) {
            if (e instanceof CheckpointException ce) {
                throw ce;
            }
            throw new CheckpointException("cannot read checkpoint " + file + ": " + e, e);
        }
    }

    private static void verifyChecksum(Path file, long size) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            CRC32C crc = new CRC32C();
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
            long left = size - 8;
            while (left > 0) {
                buf.clear().limit((int) Math.min(buf.capacity(), left));
                int n = ch.read(buf);
                if (n < 0) {
                    throw new CheckpointException("checkpoint " + file + " ended early");
                }
                buf.flip();
                crc.update(buf);
                left -= n;
            }
            ByteBuffer tail = ByteBuffer.allocate(8);
            while (tail.hasRemaining() && ch.read(tail) >= 0) {
                // read the stored checksum
            }
            long stored = tail.flip().getLong();
            if (stored != crc.getValue()) {
                throw new CheckpointException("checkpoint " + file + " is corrupt: CRC32C " + Long.toHexString(crc.getValue())
                        + " does not match the stored " + Long.toHexString(stored));
            }
        } catch (IOException e) {
            throw new CheckpointException("cannot read checkpoint " + file + ": " + e.getMessage(), e);
        }
    }

    /** Copies the named tensor into {@code target}, checking the shape. */
    public void restoreInto(String name, Tensor target) {
        Tensor t = tensors.get(name);
        if (t == null) {
            throw new CheckpointException("checkpoint has no tensor '" + name + "'");
        }
        if (!t.sameShape(target)) {
            throw new CheckpointException("checkpoint tensor '" + name + "' has shape " + t.shapeString()
                    + " but the model expects " + target.shapeString());
        }
        target.copyFrom(t);
    }
}
