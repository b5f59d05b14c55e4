package io.ringtmp.launch;

import io.ringtmp.launch.internal.Shell;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Injects a launch's {@link Fault}s into its node processes on one thread of its own
 * ({@code ringtmp-faults}): SIGKILL, SIGSTOP then SIGCONT, or a cut link of an
 * {@link EmulatedCluster}, each at its time after {@link #start}. What was done, and when (wall
 * clock, as the nodes' metrics), is kept for the run's summary ({@link #injected}).
 *
 * <p>Threads: the launcher's thread calls {@link #start}, then {@link #close} (which ends the
 * thread and undoes a stop or cut still in force, so that the nodes can be ended), then
 * {@link #injected}.
 */
final class FaultInjector implements AutoCloseable {
    /**
     * One fault as done: wall-clock milliseconds when it began and ended (a kill ends when it
     * begins; -1 when the run ended before), or why it could not be done.
     */
    record Injected(Fault fault, long startMs, long endMs, String error) {
    }

    private final List<Fault> faults;
    private final List<Process> procs;
    private final EmulatedCluster emu;
    private final Consumer<String> out;
    private final java.util.function.IntConsumer restart;
    private final List<Injected> injected = new ArrayList<>();
    private final List<Pending> inForce = new ArrayList<>(); // guarded by injected
    private Thread thread;

    /**
     * @param procs the node processes by id, all started
     * @param emu   the emulated cluster, or null on loopback (then no cut is possible)
     * @param out     where each fault is announced, e.g. {@code [fault] kill node 2}
     * @param restart starts node i again in place of its killed process ({@code procs} then holds the new one)
     */
    FaultInjector(List<Fault> faults, List<Process> procs, EmulatedCluster emu, Consumer<String> out, java.util.function.IntConsumer restart) {
        for (Fault f : faults) {
            if (f.kind() == Fault.Kind.CUT && emu == null) {
                throw new IllegalArgumentException("--fault " + f + ": cutting a link needs an emulated cluster (--emulate)");
            }
        }
        this.faults = faults.stream().sorted(Comparator.comparingLong(Fault::atMs)).toList();
        this.procs = procs;
        this.emu = emu;
        this.out = out;
        this.restart = restart;
    }

    /**
     * Starts the injector: once {@code started} says the run has begun (polled every 50 ms), each
     * fault comes {@code atMs} after that.
     */
    void start(java.util.function.BooleanSupplier started) {
        if (faults.isEmpty()) {
            return;
        }
        thread = new Thread(() -> {
            try {
                while (!started.getAsBoolean()) {
                    Thread.sleep(50);
                }
            } catch (InterruptedException e) {
                return; // the run ended first
            }
            out.accept("[fault] the clock starts: the run's first step");
            run(System.nanoTime());
        }, "ringtmp-faults");
        thread.setDaemon(true);
        thread.start();
    }

    /** A stop, cut or restart to come: when it ends, what ends it, and whether {@link #close} does it still (not a restart). */
    private record Pending(long endNs, Runnable end, boolean atClose) {
    }

    private void run(long t0) {
        int next = 0;
        try {
            while (true) {
                long now = System.nanoTime();
                long wake = Long.MAX_VALUE;
                if (next < faults.size()) {
                    long at = t0 + TimeUnit.MILLISECONDS.toNanos(faults.get(next).atMs());
                    if (now >= at) {
                        begin(faults.get(next++), now);
                        continue;
                    }
                    wake = at;
                }
                List<Pending> due = new ArrayList<>();
                synchronized (injected) {
                    for (Pending p : inForce) {
                        if (now >= p.endNs()) {
                            due.add(p);
                        } else {
                            wake = Math.min(wake, p.endNs());
                        }
                    }
                    inForce.removeAll(due);
                }
                due.forEach(p -> p.end().run());
                if (wake == Long.MAX_VALUE) {
                    return; // every fault done and ended
                }
                TimeUnit.NANOSECONDS.sleep(Math.max(0, wake - System.nanoTime()));
            }
        } catch (InterruptedException e) {
            // close(): the run ended; close() ends what is still in force.
        }
    }

    private void begin(Fault f, long nowNs) {
        long startMs = System.currentTimeMillis();
        try {
            switch (f.kind()) {
                case KILL -> {
                    Process p = procs.get(f.node());
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                    out.accept("[fault] killed node " + f.node() + " (SIGKILL)" + (f.forMs() > 0 ? "; starting it again in " + f.forMs() + " ms" : ""));
                    if (f.forMs() == 0) {
                        record(new Injected(f, startMs, startMs, null));
                        return;
                    }
                }
                case STOP -> {
                    signal(f.node(), "-STOP");
                    out.accept("[fault] stopped node " + f.node() + " (SIGSTOP) for " + f.forMs() + " ms");
                }
                case CUT -> {
                    emu.cut(f.node(), f.peer());
                    out.accept("[fault] cut the link " + f.node() + "-" + f.peer() + " for " + f.forMs() + " ms");
                }
            }
        } catch (RuntimeException e) {
            out.accept("[fault] could not inject " + f + ": " + e.getMessage());
            record(new Injected(f, startMs, startMs, e.getMessage()));
            return;
        }
        int index = record(new Injected(f, startMs, -1, null));
        Runnable end = () -> {
            try {
                if (f.kind() == Fault.Kind.KILL) {
                    procs.get(f.node()).waitFor(10, TimeUnit.SECONDS);
                    restart.accept(f.node());
                    out.accept("[fault] started node " + f.node() + " again");
                } else if (f.kind() == Fault.Kind.STOP) {
                    signal(f.node(), "-CONT");
                    out.accept("[fault] resumed node " + f.node() + " (SIGCONT)");
                } else {
                    emu.heal(f.node(), f.peer());
                    out.accept("[fault] healed the link " + f.node() + "-" + f.peer());
                }
                synchronized (injected) {
                    injected.set(index, new Injected(f, startMs, System.currentTimeMillis(), null));
                }
            } catch (RuntimeException e) {
                out.accept("[fault] could not end " + f + ": " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        synchronized (injected) {
            inForce.add(new Pending(nowNs + TimeUnit.MILLISECONDS.toNanos(f.forMs()), end, f.kind() != Fault.Kind.KILL));
        }
    }

    private int record(Injected i) {
        synchronized (injected) {
            injected.add(i);
            return injected.size() - 1;
        }
    }

    private void signal(int node, String signal) {
        Process p = procs.get(node);
        if (!p.isAlive()) {
            throw new IllegalStateException("node " + node + " is not running");
        }
        Shell.run(List.of("kill", signal, Long.toString(p.pid()))).orThrow("signal node " + node);
    }

    /** Ends the injector's thread and undoes each stop or cut still in force. */
    @Override
    public void close() throws InterruptedException {
        if (thread == null) {
            return;
        }
        thread.interrupt();
        thread.join(5000);
        List<Pending> left;
        synchronized (injected) {
            left = new ArrayList<>(inForce);
            inForce.clear();
        }
        left.stream().filter(Pending::atClose).forEach(p -> p.end().run());
    }

    /** Whether node {@code node}'s process is one this injector killed (and has not started again). */
    boolean killed(int node) {
        synchronized (injected) {
            return injected.stream().anyMatch(i -> i.fault().kind() == Fault.Kind.KILL && i.fault().node() == node && i.error() == null
                    && (i.fault().forMs() == 0 || i.endMs() < 0));
        }
    }

    /** Whether a restart of a killed node is still to come. */
    boolean restartPending() {
        synchronized (injected) {
            return inForce.stream().anyMatch(p -> !p.atClose());
        }
    }

    /** What was injected, in order. */
    List<Injected> injected() {
        synchronized (injected) {
            return List.copyOf(injected);
        }
    }

    static void describe(List<Fault> faults, PrintStream out) {
        if (!faults.isEmpty()) {
            out.println("  faults: " + String.join(", ", faults.stream().map(Fault::toString).toList()));
        }
    }
}
