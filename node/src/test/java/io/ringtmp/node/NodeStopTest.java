package io.ringtmp.node;

import io.ringtmp.transport.Message;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two real nodes in one JVM on loopback: when one node's program stops early, its neighbour
 * stops too, and exits as the run ended: 0 after an orderly stop (SIGTERM), 1 after an error.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class NodeStopTest {
    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** A program that waits until its node is stopped, then reports that it did not complete. */
    private static NodeProgram waiting(NodeContext ctx, CountDownLatch started) {
        return new NodeProgram() {
            @Override
            public void onMessage(Message m) {
            }

            @Override
            public boolean run() throws InterruptedException {
                started.countDown();
                while (!ctx.stop().await(50)) {
                    Thread.onSpinWait();
                }
                return false;
            }
        };
    }

    private record Ended(int code, String log) {
    }

    /**
     * Runs nodes 0 and 1; node 0 runs {@code first} (given a latch that opens once node 1's
     * program runs, i.e. once node 1 is connected), node 1 waits for a stop.
     */
    private static Ended[] run(Path dir, java.util.function.BiFunction<NodeContext, CountDownLatch, NodeProgram> first,
                               java.util.function.Consumer<Node> onNode0)
            throws Exception {
        List<NodeSpec> nodes = List.of(NodeSpec.of(0, "127.0.0.1", freePort()), NodeSpec.of(1, "127.0.0.1", freePort()));
        ClusterSpec spec = new ClusterSpec(77, "a-secret-of-sixteen-chars", ClusterSpec.Mode.LINKTEST, Map.of(), null, null,
                100, 5000, dir.toString(), nodes);
        CountDownLatch started = new CountDownLatch(1);
        Ended[] out = new Ended[2];
        List<CompletableFuture<Void>> runs = new java.util.ArrayList<>();
        for (int id = 0; id < 2; id++) {
            int i = id;
            NodeProgram.Factory f = new NodeProgram.Factory() {
                @Override
                public String mode() {
                    return "test";
                }

                @Override
                public java.util.Set<String> optionKeys() {
                    return java.util.Set.of();
                }

                @Override
                public long maxMessageBytes(ClusterSpec s) {
                    return 4096;
                }

                @Override
                public NodeProgram create(NodeContext ctx) {
                    return i == 0 ? first.apply(ctx, started) : waiting(ctx, started);
                }
            };
            // Each node on its own thread (the common pool may have one thread on 2 cores).
            runs.add(CompletableFuture.runAsync(() -> {
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                PrintStream log = new PrintStream(bytes, true, StandardCharsets.UTF_8);
                int code;
                try (Node n = new Node(spec, i, Time.SYSTEM, log, f)) {
                    if (i == 0) {
                        onNode0.accept(n);
                    }
                    code = n.run();
                } catch (RuntimeException e) {
                    code = -1; // the program's own exception, rethrown by the node (the CLI exits 1)
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                out[i] = new Ended(code, bytes.toString(StandardCharsets.UTF_8));
            }, r -> new Thread(r, "node-" + i).start()));
        }
        CompletableFuture.allOf(runs.toArray(CompletableFuture[]::new)).get(50, TimeUnit.SECONDS);
        return out;
    }

    @Test
    void aNodesError_stopsItsNeighbourWithExit1(@TempDir Path dir) throws Exception {
        Ended[] e = run(dir, (ctx, node1Runs) -> new NodeProgram() {
            @Override
            public void onMessage(Message m) {
            }

            @Override
            public boolean run() throws InterruptedException {
                // Fail once node 1 runs: failing before node 1 has connected would leave it a
                // neighbour that is gone (exit 3), not one that stopped after an error.
                assertTrue(node1Runs.await(20, TimeUnit.SECONDS), "node 1 never ran");
                throw new IllegalStateException("boom");
            }
        }, n -> { });
        assertEquals(-1, e[0].code(), e[0].log());
        assertEquals(1, e[1].code(), e[1].log());
        assertTrue(e[1].log().contains("neighbour 0 stopped after an error"), e[1].log());
    }

    @Test
    void anOrderlyStop_stopsItsNeighbourWithExit0(@TempDir Path dir) throws Exception {
        CountDownLatch mine = new CountDownLatch(1);
        Node[] node0 = new Node[1];
        Ended[] e = run(dir, (ctx, node1Runs) -> {
            NodeProgram p = waiting(ctx, mine);
            // SIGTERM, as the CLI's shutdown hook asks for it, once both programs run.
            Thread.ofVirtual().start(() -> {
                try {
                    mine.await();
                    node1Runs.await();
                    node0[0].requestStop("SIGTERM");
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
            });
            return p;
        }, n -> node0[0] = n);
        assertEquals(0, e[0].code(), e[0].log());
        assertEquals(0, e[1].code(), e[1].log());
        assertTrue(e[1].log().contains("neighbour 0 stopped early"), e[1].log());
    }
}
