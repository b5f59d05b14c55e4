package io.ringtmp.data.internal;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.zip.GZIPInputStream;

/** Byte-stream helpers of the data module: gzip sniffing, SHA-256, atomic file writes. */
public final class Streams {
    private static final int BUFFER_BYTES = 1 << 16;

    private Streams() {}

    /** True if the stream (which must support mark) starts with the gzip magic bytes 1f 8b. */
    public static boolean startsWithGzipMagic(InputStream in) throws IOException {
        in.mark(2);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        return b0 == 0x1f && b1 == 0x8b;
    }

    /**
     * Wraps {@code in} so that it yields the uncompressed bytes: gzip is detected by its magic
     * bytes, not by a file name. The caller owns and closes the returned stream.
     */
    public static InputStream decompressIfGzipped(InputStream in) throws IOException {
        BufferedInputStream buffered = new BufferedInputStream(in, BUFFER_BYTES);
        if (startsWithGzipMagic(buffered)) {
            return new BufferedInputStream(new GZIPInputStream(buffered, BUFFER_BYTES), BUFFER_BYTES);
        }
        return buffered;
    }

    /** Opens {@code file} for reading its uncompressed content, gzipped or not. */
    public static InputStream openUncompressed(Path file) throws IOException {
        return decompressIfGzipped(Files.newInputStream(file));
    }

    /** SHA-256 of the uncompressed content of {@code file}, as 64 lower-case hex digits. */
    public static String sha256OfUncompressed(Path file) throws IOException {
        try (InputStream in = openUncompressed(file)) {
            return sha256Hex(in);
        }
    }

    /** SHA-256 of everything left in {@code in}, as 64 lower-case hex digits; does not close it. */
    public static String sha256Hex(InputStream in) throws IOException {
        MessageDigest md = sha256();
        byte[] buf = new byte[BUFFER_BYTES];
        for (int n; (n = in.read(buf)) > 0; ) {
            md.update(buf, 0, n);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no SHA-256, which every JDK must provide", e);
        }
    }

    /**
     * Copies {@code in} (decompressing it if it is gzipped) into a temporary file next to
     * {@code target}, then returns the SHA-256 of the bytes written and leaves the temporary
     * file in place for {@link #commit} or deletion. Reads {@code in} to its end; does not close it.
     */
    public static String copyUncompressedHashing(InputStream in, Path tmp) throws IOException {
        InputStream plain = decompressIfGzipped(nonClosing(in));
        MessageDigest md = sha256();
        try (DigestInputStream digesting = new DigestInputStream(plain, md);
                OutputStream out = Files.newOutputStream(tmp)) {
            digesting.transferTo(out);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** Renames {@code tmp} to {@code target}, atomically where the file system can. */
    public static void commit(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** A view of {@code in} whose close() does nothing, for wrapping an entry of a larger stream. */
    public static InputStream nonClosing(InputStream in) {
        return new java.io.FilterInputStream(in) {
            @Override
            public void close() {}
        };
    }
}
