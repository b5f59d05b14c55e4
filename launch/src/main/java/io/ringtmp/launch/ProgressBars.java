package io.ringtmp.launch;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarConsumer;

import java.io.PrintStream;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * RingTMP's progress bars, built around two habits of the progress-bar library:
 * <ul>
 *   <li>it asks the terminal's width at every redraw, which without a native terminal library
 *       starts an {@code stty} process each time (five a second cost a 4-node ring on two cores a
 *       fifth of its throughput): here the width is asked once per process;</li>
 *   <li>a bar closed before its first redraw has run is drawn but never ended with a newline, so
 *       the next line lands on it: {@link #start} returns once the first redraw is done.</li>
 * </ul>
 */
public final class ProgressBars {
    private static int width;

    private ProgressBars() {
    }

    /** Draws on {@code out} at the terminal's width as it was at the first call. */
    public static synchronized ProgressBarConsumer consumer(PrintStream out) {
        if (width <= 0) {
            width = new ConsoleProgressBarConsumer(out).getMaxRenderedLength();
        }
        return new ConsoleProgressBarConsumer(out, width);
    }

    /** Builds the bar drawing through {@code consumer} and waits (at most a second) for its first redraw. */
    public static ProgressBar start(ProgressBarBuilder builder, ProgressBarConsumer consumer) {
        CountDownLatch drawn = new CountDownLatch(1);
        ProgressBar bar = builder.setConsumer(new ProgressBarConsumer() {
            @Override
            public int getMaxRenderedLength() {
                return consumer.getMaxRenderedLength();
            }

            @Override
            public void accept(String rendered) {
                consumer.accept(rendered);
                drawn.countDown();
            }

            @Override
            public void clear() {
                consumer.clear();
            }

            @Override
            public void close() {
                consumer.close();
            }
        }).build();
        try {
            drawn.await(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return bar;
    }
}
