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
    private final List<Injected> injected = new ArrayList<>();
    private final List<Runnable> undo = new ArrayList<>();
    private Thread thread;

    /**
     * @param procs the node processes by id, all started
     * @param emu   the emulated cluster, or null on loopback (then no cut is possible)
     * @param out   where each fault is announced, e.g. {@code [fault] kill node 2}
     */
    FaultInjector(List<Fault> faults, List<Process> procs, EmulatedCluster emu, Consumer<String> out) {
        for (Fault f : faults) {
            if (f.kind() == Fault.Kind.CUT && emu == null) {
                throw new IllegalArgumentException("--fault " + f + ": cutting a link needs an emulated cluster (--emulate)");
            }
        }
        this.faults = faults.stream().sorted(Comparator.comparingLong(Fault::atMs)).toList();
        this.procs = procs;
        this.emu = emu;
        this.out = out;
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

    private void run(long t0) {
        List<long[]> ends = new ArrayList<>(); // {end ns, index into injected}
        List<Runnable> enders = new ArrayList<>();
        int next = 0;
        try {
            while (next < faults.size() || !ends.isEmpty()) {
                long now = System.nanoTime();
                long wake = Long.MAX_VALUE;
                if (next < faults.size()) {
                    long at = t0 + TimeUnit.MILLISECONDS.toNanos(faults.get(next).atMs());
                    if (now >= at) {
                        begin(faults.get(next++), ends, enders, now);
                        continue;
                    }
                    wake = at;
                }
                for (int i = 0; i < ends.size(); i++) {
                    if (now >= ends.get(i)[0]) {
                        enders.remove(i).run();
                        ends.remove(i);
                        i--;
                    } else {
                        wake = Math.min(wake, ends.get(i)[0]);
                    }
                }
                if (wake != Long.MAX_VALUE) {
                    TimeUnit.NANOSECONDS.sleep(Math.max(0, wake - System.nanoTime()));
                }
            }
        } catch (InterruptedException e) {
            // close(): the run ended; close() undoes what is still in force.
        }
    }

    private void begin(Fault f, List<long[]> ends, List<Runnable> enders, long nowNs) {
        long startMs = System.currentTimeMillis();
        int index;
        try {
            switch (f.kind()) {
                case KILL -> {
                    Process p = procs.get(f.node());
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                    out.accept("[fault] killed node " + f.node() + " (SIGKILL)");
                    record(new Injected(f, startMs, startMs, null));
                    return;
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
        index = record(new Injected(f, startMs, -1, null));
        Runnable end = () -> {
            try {
                if (f.kind() == Fault.Kind.STOP) {
                    signal(f.node(), "-CONT");
                    out.accept("[fault] resumed node " + f.node() + " (SIGCONT)");
                } else {
                    emu.heal(f.node(), f.peer());
                    out.accept("[fault] healed the link " + f.node() + "-" + f.peer());
                }
                synchronized (injected) {
                    Injected was = injected.get(index);
                    injected.set(index, new Injected(f, was.startMs(), System.currentTimeMillis(), null));
                }
            } catch (RuntimeException e) {
                out.accept("[fault] could not end " + f + ": " + e.getMessage());
            }
        };
        synchronized (injected) {
            undo.add(end);
        }
        ends.add(new long[]{nowNs + TimeUnit.MILLISECONDS.toNanos(f.forMs()), index});
        enders.add(() -> {
            synchronized (injected) {
                if (!undo.remove(end)) {
                    return; // close() ended it already
                }
            }
            end.run();
        });
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
        List<Runnable> left;
        synchronized (injected) {
            left = new ArrayList<>(undo);
            undo.clear();
        }
        left.forEach(Runnable::run);
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
