package io.ringtmp.launch;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * The programs the emulation tests run inside node namespaces (started through
 * {@link EmulatedCluster#wrap}), one per mode. Each prints {@code READY} when it is listening and
 * its result as one line on stdout.
 *
 * <ul>
 *   <li>{@code echo ADDR PORT}: accepts one connection and echoes its lines.</li>
 *   <li>{@code ping ADDR PORT TEXT}: sends TEXT and prints {@code ECHO <reply>}.</li>
 *   <li>{@code sink ADDR PORT WARMUP_MS MEASURE_MS}: accepts one connection, discards the first
 *       WARMUP_MS of data, then prints {@code MBIT <rate>} for the bytes received in MEASURE_MS.</li>
 *   <li>{@code source ADDR PORT}: sends as fast as the link allows until the peer closes.</li>
 *   <li>{@code cluster TAG}: creates a 2-node emulated cluster, starts {@code sleep} in node 0,
 *       prints {@code READY <sleep pid>} and waits to be killed; where the cluster cannot be
 *       created, prints {@code EMULATION <message>} and exits with 2.</li>
 * </ul>
 */
public final class NetProbe {
    private static final long CONNECT_TIMEOUT_MS = 10_000;

    private NetProbe() {
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "echo" -> echo(args[1], Integer.parseInt(args[2]));
            case "ping" -> ping(args[1], Integer.parseInt(args[2]), args[3]);
            case "sink" -> sink(args[1], Integer.parseInt(args[2]), Long.parseLong(args[3]), Long.parseLong(args[4]));
            case "source" -> source(args[1], Integer.parseInt(args[2]));
            case "cluster" -> {
                try {
                    cluster(args[1]);
                } catch (EmulationException e) {
                    System.out.println("EMULATION " + e.getMessage());
                    System.exit(2);
                }
            }
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
    }

    private static ServerSocket listen(String addr, int port) throws IOException {
        ServerSocket server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getByName(addr), port));
        System.out.println("READY");
        System.out.flush();
        return server;
    }

    /** Connects, retrying while the listener is not up yet (its JVM may start later than ours). */
    private static Socket connect(String addr, int port) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + CONNECT_TIMEOUT_MS * 1_000_000;
        while (true) {
            try {
                return new Socket(addr, port);
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(50);
            }
        }
    }

    private static void echo(String addr, int port) throws IOException {
        try (ServerSocket server = listen(addr, port); Socket s = server.accept();
             BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
             PrintWriter out = new PrintWriter(s.getOutputStream(), true, StandardCharsets.UTF_8)) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                out.println(line);
            }
        }
    }

    private static void ping(String addr, int port, String text) throws Exception {
        try (Socket s = connect(addr, port);
             BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
             PrintWriter out = new PrintWriter(s.getOutputStream(), true, StandardCharsets.UTF_8)) {
            out.println(text);
            System.out.println("ECHO " + in.readLine());
        }
    }

    private static void sink(String addr, int port, long warmupMs, long measureMs) throws IOException {
        try (ServerSocket server = listen(addr, port); Socket s = server.accept()) {
            InputStream in = s.getInputStream();
            byte[] buf = new byte[1 << 16];
            long start = System.nanoTime();
            long measureFrom = start + warmupMs * 1_000_000;
            long measureTo = measureFrom + measureMs * 1_000_000;
            long bytes = 0;
            long t0 = 0;
            while (true) {
                int n = in.read(buf);
                long now = System.nanoTime();
                if (n < 0) {
                    throw new IOException("sender closed before the measurement ended");
                }
                if (now >= measureFrom && t0 == 0) {
                    t0 = now; // Count from the first read after the warm-up, not from a guessed instant.
                    continue;
                }
                if (t0 != 0) {
                    bytes += n;
                    if (now >= measureTo) {
                        double seconds = (now - t0) / 1e9;
                        System.out.println(String.format(Locale.ROOT, "MBIT %.3f", bytes * 8 / seconds / 1e6));
                        System.out.flush();
                        return;
                    }
                }
            }
        }
    }

    private static void source(String addr, int port) throws Exception {
        try (Socket s = connect(addr, port)) {
            OutputStream out = s.getOutputStream();
            byte[] buf = new byte[1 << 16];
            while (true) {
                out.write(buf);
            }
        } catch (IOException e) {
            // The sink closed after measuring: done.
        }
    }

    private static void cluster(String tag) throws Exception {
        EmulatedCluster c = EmulatedCluster.create(tag, new EmulationConfig(2, 10, 0.5, 128L << 20));
        Process sleeper = new ProcessBuilder(c.wrap(0, List.of("sleep", "600"))).start();
        System.out.println("READY " + sleeper.pid());
        System.out.flush();
        // Not closed on purpose: only the shutdown hook may tear this cluster down.
        Thread.sleep(600_000);
    }
}
