package io.ringtmp.cli;

import io.ringtmp.launch.ProgressBars;
import io.ringtmp.train.TrainListener;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Shows training progress: a progress bar (samples/s, loss) on a terminal, and one line per
 * epoch with the test accuracy either way.
 */
final class ProgressListener implements TrainListener, AutoCloseable {
    private final PrintStream out;
    private final ProgressBar bar;
    private double smoothedLoss = Double.NaN;
    private long samples;
    private final long startNs = System.nanoTime();

    ProgressListener(PrintStream out, long totalSteps, long doneSteps) {
        this.out = out;
        this.bar = System.console() == null ? null : ProgressBars.start(new ProgressBarBuilder()
                .setTaskName("train").setInitialMax(totalSteps).setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(250).setUnit(" steps", 1).continuousUpdate(), ProgressBars.consumer(System.err));
        if (bar != null) {
            bar.stepTo(doneSteps);
        }
    }

    @Override
    public void onStep(StepEvent e) {
        smoothedLoss = Double.isNaN(smoothedLoss) ? e.loss() : 0.98 * smoothedLoss + 0.02 * e.loss();
        samples += e.samples();
        if (bar != null) {
            double secs = (System.nanoTime() - startNs) / 1e9;
            bar.stepTo(e.step());
            bar.setExtraMessage(String.format(Locale.ROOT, " loss %.4f, %.0f samples/s", smoothedLoss, samples / secs));
        }
    }

    @Override
    public void onEpoch(EpochEvent e) {
        String line = String.format(Locale.ROOT,
                "epoch %d: train loss %.4f, test loss %.4f, test accuracy %.4f, %.0f samples/s, %.1f s",
                e.epoch(), e.trainLoss(), e.testLoss(), e.testAccuracy(), e.samplesPerSec(), e.seconds());
        if (bar != null) {
            bar.pause();
            out.print("\r\033[K");
        }
        out.println(line);
        if (bar != null) {
            bar.resume();
        }
    }

    @Override
    public void close() {
        if (bar != null) {
            bar.close();
        }
    }
}
