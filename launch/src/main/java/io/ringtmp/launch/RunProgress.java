package io.ringtmp.launch;

import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.LinkTest;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.util.List;

/**
 * One progress bar for a whole run on a terminal: elapsed against the run's expected length
 * (for the link test: sizes × seconds, plus the pings), and how many nodes are still running.
 */
final class RunProgress implements AutoCloseable {
    private final ProgressBar bar;
    private final Thread ticker;

    private RunProgress(ProgressBar bar, Thread ticker) {
        this.bar = bar;
        this.ticker = ticker;
    }

    static RunProgress start(ClusterSpec spec, List<Process> procs) {
        long expectedMs = switch (spec.mode()) {
            case LINKTEST -> (long) (LinkTest.parseSizes(spec.option("sizes", LinkTest.DEFAULT_SIZES)).length
                    * Double.parseDouble(spec.option("seconds", "2")) * 1000) + 2000;
            case RING, PS -> 0;
        };
        ProgressBar bar = ProgressBars.start(new ProgressBarBuilder().setTaskName("run " + spec.mode().id()).setInitialMax(expectedMs / 100)
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(200).hideEta(), ProgressBars.consumer(System.err));
        long t0 = System.nanoTime();
        Thread ticker = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                long running = procs.stream().filter(Process::isAlive).count();
                bar.stepTo(Math.min(bar.getMax() - 1, (System.nanoTime() - t0) / 100_000_000L));
                bar.setExtraMessage(" " + running + "/" + procs.size() + " nodes running");
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "ringtmp-progress");
        ticker.setDaemon(true);
        ticker.start();
        return new RunProgress(bar, ticker);
    }

    @Override
    public void close() {
        ticker.interrupt();
        try {
            ticker.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        bar.stepTo(bar.getMax());
        bar.close();
    }
}
