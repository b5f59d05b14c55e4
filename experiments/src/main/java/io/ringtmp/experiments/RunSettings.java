package io.ringtmp.experiments;

import java.util.LinkedHashMap;
import java.util.Map;

/** The settings the training experiments share, in the order their rows and run keys list them. */
final class RunSettings {
    private RunSettings() {
    }

    /** System, mode, node count, model, batch and learning rate of a run; the caller adds its lengths, then {@link #addDevice}. */
    static Map<String, Object> base(String system, String mode, int nodes) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("system", system);
        s.put("mode", mode);
        s.put("nodes", nodes);
        s.put("model", IdleExperiment.MODEL);
        s.put("batch", 128);
        s.put("lr", 0.05);
        return s;
    }

    /**
     * The mode's own settings (the ring's microbatches, ssp's staleness) and the emulated device: 0.25 core, 100 Mbit/s.
     * In the quick profile the ring partitions from FLOP estimates instead of timing every layer at start-up (about 4 s
     * less per launch on a quarter core), which keeps the quick {@code all} within its 10 minutes.
     */
    static void addDevice(Map<String, Object> s, Profile profile) {
        if (s.get("system").equals("ring")) {
            s.put("microbatches", 4);
            if (profile == Profile.QUICK) {
                s.put("stageProfile", "estimate");
            }
        }
        if (s.get("mode").equals("ssp")) {
            s.put("staleness", 2);
        }
        s.put("nodeCpu", 0.25);
        s.put("linkMbit", 100);
    }
}
