package io.ringtmp.cli;

import io.ringtmp.experiments.Report;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code ringtmp report DIR}: report.md and report.html from an experiment's results. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = {"Writes DIR/report.md and DIR/report.html (self-contained, plots embedded) from the results in DIR, "
                + "opening with one verdict per claim, computed by the rule stated next to it."})
final class ReportCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "Results directory (of 'ringtmp experiment').")
    Path dir;

    @Override
    public Integer call() throws Exception {
        System.setProperty("java.awt.headless", "true");
        Report r = Report.load(dir);
        Path html = r.write(dir);
        r.verdicts().forEach(v -> System.out.println(v.claim() + ": " + v.outcome()));
        System.out.println("report: " + dir.resolve("report.md") + ", " + html);
        return 0;
    }
}
