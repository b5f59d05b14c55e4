package io.ringtmp.ring;

import io.ringtmp.node.NodeContext;
import io.ringtmp.ring.internal.OpTrace;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** A stage's report at the end of the run: its line in the node's log, the {@code stage-end} event, and the trace file. */
final class StageReport {
    private StageReport() {
    }

    static void write(NodeContext ctx, Stage stage, SchedulePolicy policy, long stepsDone, long completedMicrobatches, long modelParameters,
                      StepWindow window, OpTrace trace, int m) {
        int id = ctx.id();
        if (trace != null) {
            Path file = Path.of(ctx.spec().metricsDir()).resolve("trace-node-" + id + ".json");
            trace.write(file, id, "stage " + id + " (node " + id + ")", m);
            ctx.say("trace of " + trace.size() + " operations: " + file);
        }
        // async updates after every microbatch; the flushed schedules once per mini-batch.
        String updates = policy.updatesEveryMicrobatch()
                ? String.format(Locale.ROOT, "%,d mini-batches in %,d updates", stepsDone, completedMicrobatches)
                : String.format(Locale.ROOT, "%,d updates", stepsDone);
        var layers = stage.layers().layers();
        ctx.say(String.format(Locale.ROOT, "stage %d (%s..%s, %,d of %,d parameters): %s done%s", id,
                layers.get(0).name(), layers.get(layers.size() - 1).name(), stage.layers().parameterCount(), modelParameters, updates,
                stage.versionsKept() > 0 ? ", " + stage.versionsKept() + " of them into a new weight version (the old one kept for pending backwards)" : "")
                + String.format(Locale.ROOT, "; idle %.1f s with every slot taken (awaiting gradients), %.1f s with a slot free (awaiting %s)",
                window.idleSlotsFullNs() / 1e9, window.idleNoInputNs() / 1e9, id == 0 ? "a credit" : "an activation"));
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("miniBatches", stepsDone);
        f.put("microbatches", completedMicrobatches);
        f.put("versionsKept", stage.versionsKept());
        f.put("idleSlotsFullMs", window.idleSlotsFullNs() / 1e6);
        f.put("idleNoInputMs", window.idleNoInputNs() / 1e6);
        ctx.metrics().event("stage-end", f);
    }
}
