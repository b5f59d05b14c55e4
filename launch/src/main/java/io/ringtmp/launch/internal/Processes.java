package io.ringtmp.launch.internal;

import java.util.Collection;
import java.util.List;
import java.util.Optional;

/** Ends processes by pid: SIGTERM, a bounded wait, then SIGKILL. Stateless; any thread. */
public final class Processes {
    private Processes() {
    }

    /**
     * Sends SIGTERM to every live pid, waits until they exit or {@code graceMs} passes, then sends
     * SIGKILL to the rest and waits up to {@code graceMs} again. Returns the pids still alive.
     * Never signals this JVM itself.
     */
    public static List<Long> terminate(Collection<Long> pids, long graceMs) {
        long self = ProcessHandle.current().pid();
        List<ProcessHandle> live = pids.stream().distinct().filter(p -> p != self)
                .map(ProcessHandle::of).flatMap(Optional::stream).filter(ProcessHandle::isAlive).toList();
        live.forEach(ProcessHandle::destroy);
        live = waitForExit(live, graceMs);
        live.forEach(ProcessHandle::destroyForcibly);
        return waitForExit(live, graceMs).stream().map(ProcessHandle::pid).toList();
    }

    private static List<ProcessHandle> waitForExit(List<ProcessHandle> handles, long timeoutMs) {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        List<ProcessHandle> live = handles;
        while (!live.isEmpty() && System.nanoTime() < deadline) {
            sleepQuietly(10);
            live = live.stream().filter(ProcessHandle::isAlive).toList();
        }
        return live;
    }

    static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            // Teardown must finish; keep the flag for the caller.
            Thread.currentThread().interrupt();
        }
    }
}
