package io.ringtmp.cli.bench;

import io.ringtmp.tensor.Tensor;
import io.ringtmp.transport.Link;
import io.ringtmp.transport.Message;
import io.ringtmp.transport.MessageHandler;
import io.ringtmp.transport.MessageKind;
import io.ringtmp.transport.NettyTransport;
import io.ringtmp.transport.Transport;
import io.ringtmp.transport.TransportConfig;
import io.ringtmp.transport.tls.ClusterCa;
import io.ringtmp.transport.tls.TlsConfig;
import io.ringtmp.transport.tls.TlsCredentials;
import io.ringtmp.transport.tls.TlsProvider;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The transport benchmark ({@code ringtmp bench transport}): one-way MB/s of tensors of 4 KiB,
 * 64 KiB, 512 KiB and 4 MiB with {@link #IN_FLIGHT} messages in flight (the receiver acknowledges
 * each), and the round-trip latency of 64-byte messages, for two paths in the same run over
 * loopback:
 * <ul>
 *   <li>{@code raw tcp}: a plain blocking {@link SocketChannel} writing and reading byte blocks,
 *       no encoding (the ceiling);</li>
 *   <li>{@code netty}: {@link NettyTransport} and {@link Link}, the data plane (framing, CRC32C, copy into a
 *       direct buffer, decode into a new float[]), plaintext;</li>
 *   <li>{@code tls-openssl} and {@code tls-jdk}: the same inside mutual TLS 1.3 (AES-128-GCM),
 *       BoringSSL through netty-tcnative (where it loads) or the JDK's JSSE, with certificates of
 *       a CA made for the run.</li>
 * </ul>
 * Both ends run in this JVM on two threads sets (simpler than two processes; both ends share the
 * heap and the collector, which penalises the path that allocates, netty, not raw tcp).
 * Each point is a warm-up then a timed window; on a shared machine the numbers are noisy.
 *
 * <p>{@code java -cp cli/target/ringtmp.jar io.ringtmp.cli.bench.TransportBench [msPerPoint]}
 */
public final class TransportBench {
    public static final int IN_FLIGHT = 4;
    public static final int[] SIZES = {4 << 10, 64 << 10, 512 << 10, 4 << 20};
    public static final int RTT_BYTES = 64;
    private static final long RUN = 1;
    private static final byte[] SECRET = "ringtmp-bench-secret-0123456789".getBytes(StandardCharsets.US_ASCII);

    /** One-way throughput of one path at one tensor size, next to raw TCP's at the same size. */
    public record Throughput(String path, int payloadBytes, double mbPerSec, double rawTcpMbPerSec, long messages) {
        public double fractionOfRawTcp() {
            return mbPerSec / rawTcpMbPerSec;
        }
    }

    /** Round-trip latency percentiles of one path. */
    public record Rtt(String path, int payloadBytes, double p50Us, double p99Us, int samples) {
    }

    public record Report(List<Throughput> throughput, List<Rtt> rtt) {
    }

    private TransportBench() {
    }

    /** Runs every point, each a warm-up of {@code msPerPoint / 3} and a window of {@code msPerPoint}, printing as it goes. */
    public static Report run(long msPerPoint, PrintStream out) {
        return run(msPerPoint, SIZES, out);
    }

    /** Like {@link #run(long, PrintStream)} at the given tensor sizes (bytes, multiples of 4). */
    public static Report run(long msPerPoint, int[] sizes, PrintStream out) {
        TransportConfig a = TransportConfig.of(0, "127.0.0.1", 0, RUN, SECRET,
                TransportConfig.maxMessageBytesFor(Arrays.stream(sizes).max().orElse(4) / 4, 64));
        TransportConfig b = TransportConfig.of(1, "127.0.0.1", 0, RUN, SECRET, a.maxMessageBytes());
        Map<String, TransportConfig[]> paths = new LinkedHashMap<>();
        paths.put("netty", new TransportConfig[]{a, b});
        Instant now = Instant.now();
        ClusterCa ca = ClusterCa.create("ringtmp bench CA", now.minus(Duration.ofMinutes(1)), now.plus(Duration.ofDays(1)));
        TlsCredentials ta = TlsCredentials.of(ca, ca.issue(0, "127.0.0.1", now.minus(Duration.ofMinutes(1)), now.plus(Duration.ofDays(1))));
        TlsCredentials tb = TlsCredentials.of(ca, ca.issue(1, "127.0.0.1", now.minus(Duration.ofMinutes(1)), now.plus(Duration.ofDays(1))));
        for (TlsProvider p : TlsProvider.values()) {
            if (p.isAvailable()) {
                paths.put("tls-" + p.name().toLowerCase(Locale.ROOT),
                        new TransportConfig[]{a.withTls(new TlsConfig(ta, p)), b.withTls(new TlsConfig(tb, p))});
            } else {
                out.println("transport tls-" + p.name().toLowerCase(Locale.ROOT) + ": not available here: " + p.describe());
            }
        }
        List<Throughput> tp = new ArrayList<>();
        List<Rtt> rtts = new ArrayList<>();
        for (int size : sizes) {
            double raw = rawTcpThroughput(size, msPerPoint);
            for (Map.Entry<String, TransportConfig[]> e : paths.entrySet()) {
                long[] n = new long[1];
                double mbs = nettyThroughput(e.getValue()[0], e.getValue()[1], size, msPerPoint, n);
                tp.add(print(out, new Throughput(e.getKey(), size, mbs, raw, n[0])));
            }
        }
        int rttSamples = (int) Math.max(500, msPerPoint * 2);
        rtts.add(print(out, rawTcpRtt(rttSamples)));
        for (Map.Entry<String, TransportConfig[]> e : paths.entrySet()) {
            rtts.add(print(out, nettyRtt(e.getKey(), e.getValue()[0], e.getValue()[1], rttSamples)));
        }
        return new Report(tp, rtts);
    }

    public static void main(String[] args) {
        run(args.length > 0 ? Long.parseLong(args[0]) : 1500, System.out);
    }

    static String sizeName(int bytes) {
        return bytes >= 1 << 20 ? (bytes >> 20) + "MiB" : bytes >= 1 << 10 ? (bytes >> 10) + "KiB" : bytes + "B";
    }

    private static Throughput print(PrintStream out, Throughput t) {
        out.printf(Locale.ROOT, "transport %s %s: %.1f MB/s (raw tcp %.1f MB/s, %.0f%%)%n", t.path(), sizeName(t.payloadBytes()),
                t.mbPerSec(), t.rawTcpMbPerSec(), 100 * t.fractionOfRawTcp());
        return t;
    }

    private static Rtt print(PrintStream out, Rtt r) {
        out.printf(Locale.ROOT, "rtt %s %s: %.0f us p50, %.0f us p99%n", r.path(), sizeName(r.payloadBytes()), r.p50Us(), r.p99Us());
        return r;
    }

    /** Drives {@code sendOne} with at most IN_FLIGHT unacknowledged messages; returns MB/s of payload in the window. */
    private static double drive(int size, long msPerPoint, Semaphore credits, Runnable sendOne, long[] count) throws InterruptedException {
        long warmEnd = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(msPerPoint / 3);
        while (System.nanoTime() < warmEnd) {
            credits.acquire();
            sendOne.run();
        }
        long start = System.nanoTime(), end = start + TimeUnit.MILLISECONDS.toNanos(msPerPoint);
        long n = 0;
        while (System.nanoTime() < end) {
            credits.acquire();
            sendOne.run();
            n++;
        }
        credits.acquire(IN_FLIGHT); // the window ends when everything sent in it was acknowledged
        double secs = (System.nanoTime() - start) / 1e9;
        credits.release(IN_FLIGHT);
        count[0] = n;
        return n * (double) size / 1e6 / secs;
    }

    static double rawTcpThroughput(int size, long msPerPoint) {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            Thread rx = new Thread(() -> {
                try (SocketChannel c = server.accept()) {
                    ByteBuffer block = ByteBuffer.allocateDirect(size);
                    ByteBuffer ack = ByteBuffer.allocateDirect(1);
                    while (true) {
                        block.clear();
                        while (block.hasRemaining()) {
                            if (c.read(block) < 0) {
                                return;
                            }
                        }
                        ack.clear();
                        c.write(ack);
                    }
                } catch (IOException e) {
                    // the sender closed mid-block at the end of the run
                }
            }, "bench-raw-rx");
            rx.start();
            try (SocketChannel c = SocketChannel.open(server.getLocalAddress())) {
                c.setOption(StandardSocketOptions.TCP_NODELAY, true);
                ByteBuffer block = ByteBuffer.allocateDirect(size);
                ByteBuffer ack = ByteBuffer.allocateDirect(IN_FLIGHT);
                int[] inFlight = {0};
                Semaphore credits = new Semaphore(IN_FLIGHT);
                // Single-threaded: before each block, collect acks until fewer than IN_FLIGHT are outstanding.
                Runnable sendOne = () -> {
                    try {
                        credits.release();
                        while (inFlight[0] >= IN_FLIGHT) {
                            ack.clear().limit(1);
                            c.read(ack);
                            inFlight[0]--;
                        }
                        block.clear();
                        while (block.hasRemaining()) {
                            c.write(block);
                        }
                        inFlight[0]++;
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                };
                long[] n = new long[1];
                double mbs = drive(size, msPerPoint, credits, sendOne, n);
                return mbs;
            } finally {
                rx.join(5000);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static double nettyThroughput(TransportConfig ca, TransportConfig cb, int size, long msPerPoint, long[] count) {
        Semaphore credits = new Semaphore(IN_FLIGHT);
        AtomicReference<Transport> bRef = new AtomicReference<>();
        MessageHandler receiver = m -> bRef.get().link(m.sender()).orElseThrow()
                .send(Message.control(MessageKind.CREDIT, 1, RUN, m.step(), null));
        MessageHandler sender = m -> credits.release();
        try (Transport b = NettyTransport.start(cb, receiver); Transport a = NettyTransport.start(ca, sender)) {
            bRef.set(b);
            Link link = a.connect(1, "127.0.0.1", b.boundPort());
            Tensor t = Tensor.zeros(size / 4);
            long[] step = {0};
            return drive(size, msPerPoint, credits,
                    () -> link.send(Message.tensor(MessageKind.DATA, 0, RUN, step[0]++, 0, t)), count);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static Rtt rtt(String path, long[] ns) {
        long[] s = ns.clone();
        Arrays.sort(s);
        return new Rtt(path, RTT_BYTES, s[s.length / 2] / 1e3, s[(int) (s.length * 0.99)] / 1e3, s.length);
    }

    static Rtt rawTcpRtt(int samples) {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            Thread echo = new Thread(() -> {
                try (SocketChannel c = server.accept()) {
                    c.setOption(StandardSocketOptions.TCP_NODELAY, true);
                    ByteBuffer b = ByteBuffer.allocateDirect(RTT_BYTES);
                    while (true) {
                        b.clear();
                        while (b.hasRemaining()) {
                            if (c.read(b) < 0) {
                                return;
                            }
                        }
                        b.flip();
                        while (b.hasRemaining()) {
                            c.write(b);
                        }
                    }
                } catch (IOException e) {
                    // closed at the end
                }
            }, "bench-raw-echo");
            echo.start();
            long[] ns = new long[samples];
            try (SocketChannel c = SocketChannel.open(server.getLocalAddress())) {
                c.setOption(StandardSocketOptions.TCP_NODELAY, true);
                ByteBuffer b = ByteBuffer.allocateDirect(RTT_BYTES);
                for (int i = -samples / 4; i < samples; i++) {
                    long t0 = System.nanoTime();
                    b.clear();
                    while (b.hasRemaining()) {
                        c.write(b);
                    }
                    b.clear();
                    while (b.hasRemaining()) {
                        c.read(b);
                    }
                    if (i >= 0) {
                        ns[i] = System.nanoTime() - t0;
                    }
                }
            }
            echo.join(5000);
            return rtt("raw tcp", ns);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    static Rtt nettyRtt(String path, TransportConfig ca, TransportConfig cb, int samples) {
        BlockingQueue<Message> back = new ArrayBlockingQueue<>(4);
        AtomicReference<Transport> bRef = new AtomicReference<>();
        MessageHandler echo = m -> bRef.get().link(m.sender()).orElseThrow()
                .send(Message.tensor(MessageKind.DATA, 1, RUN, m.step(), 0, m.tensor()));
        try (Transport b = NettyTransport.start(cb, echo); Transport a = NettyTransport.start(ca, back::add)) {
            bRef.set(b);
            Link link = a.connect(1, "127.0.0.1", b.boundPort());
            Tensor t = Tensor.zeros(RTT_BYTES / 4);
            long[] ns = new long[samples];
            for (int i = -samples / 4; i < samples; i++) {
                long t0 = System.nanoTime();
                link.send(Message.tensor(MessageKind.DATA, 0, RUN, i, 0, t));
                back.take();
                if (i >= 0) {
                    ns[i] = System.nanoTime() - t0;
                }
            }
            return rtt(path, ns);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
