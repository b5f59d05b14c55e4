package io.ringtmp.cli;

import io.ringtmp.experiments.Report;
import io.ringtmp.testing.HeadlessChromium;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * report.html in a real headless Chromium: the report of the experiments module's sample results
 * (every section: idle, progress, scaling, capacity; resilience has no plot) shows, loads every plot and logs no error;
 * and the same checks catch a page that is blank, has broken images or logs an error (so that a
 * broken report would fail them). Skipped, saying why, only where chromium is not installed
 * ({@code scripts/env.sh} installs Debian's package as root).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ReportBrowserIT {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    static Path chromium() {
        var c = HeadlessChromium.find();
        Assumptions.assumeTrue(c.isPresent(), "no chromium on the PATH: scripts/env.sh installs Debian's chromium package as root");
        return c.get();
    }

    /** Asserts what a reader of {@code html} must see: not blank, every plot loaded, no console error; returns the page. */
    static HeadlessChromium.Page assertShows(Path html, int plots) throws Exception {
        HeadlessChromium.Page p = HeadlessChromium.open(chromium(), html, TIMEOUT);
        Files.write(html.resolveSibling(html.getFileName() + ".png"), p.screenshot());
        assertEquals("RingTMP experiments", p.title());
        assertTrue(p.nonBackgroundShare() > 0.02, "screenshot is (nearly) blank: " + p.nonBackgroundShare());
        assertEquals(plots, p.images().size(), p.images().toString());
        for (HeadlessChromium.Image i : p.images()) {
            assertTrue(i.complete() && i.naturalWidth() > 0 && i.naturalHeight() > 0, "plot not loaded: " + i);
        }
        assertEquals(java.util.List.of(), p.consoleErrors());
        return p;
    }

    @Test
    void sampleReport_everySection_showsEveryPlotWithoutErrors() throws Exception {
        Path samples = Path.of("..", "experiments", "src", "test", "resources");
        for (String[] f : new String[][] {{"report", "idle.jsonl"}, {"report", "progress.jsonl"}, {"report-scaling", "scaling.jsonl"},
                {"report-capacity", "capacity.jsonl"}}) {
            Files.copy(samples.resolve(f[0]).resolve(f[1]), dir.resolve(f[1]));
        }
        Report r = Report.load(dir);
        assertEquals(6, r.plotCount()); // idle 1, progress 2, scaling 2, capacity 1
        assertShows(r.write(dir), 6);
    }

    @Test
    void brokenPage_blankBrokenImagesAndConsoleErrors_areCaught() throws Exception {
        Path blank = dir.resolve("blank.html");
        Files.writeString(blank, "<!DOCTYPE html><html><head><title>blank</title></head><body></body></html>");
        assertEquals(0.0, HeadlessChromium.open(chromium(), blank, TIMEOUT).nonBackgroundShare());

        Path broken = dir.resolve("broken.html");
        Files.writeString(broken, "<!DOCTYPE html><html><head><title>broken</title></head><body><h1>text</h1>"
                + "<img alt=\"missing\" src=\"missing.png\"><img alt=\"corrupt\" src=\"data:image/png;base64,AAAA\">"
                + "<script>console.error('boom', 42); undefinedFunction();</script></body></html>");
        HeadlessChromium.Page p = HeadlessChromium.open(chromium(), broken, TIMEOUT);
        assertTrue(p.nonBackgroundShare() > 0, "the heading shows");
        assertEquals(2, p.images().size());
        assertTrue(p.images().stream().allMatch(i -> i.naturalWidth() == 0), p.images().toString());
        assertTrue(p.consoleErrors().contains("console.error: boom 42"), p.consoleErrors().toString());
        assertTrue(p.consoleErrors().stream().anyMatch(e -> e.startsWith("uncaught: ReferenceError: undefinedFunction")), p.consoleErrors().toString());
        assertTrue(p.consoleErrors().stream().anyMatch(e -> e.contains("missing.png")), p.consoleErrors().toString());
    }
}
