package io.ringtmp.node;

import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * The modes a node can run, found by name among the {@link NodeProgram.Factory} services on the
 * class path (the link test here, the ring and the parameter server in their modules), so that
 * adding a mode touches no switch.
 */
public final class Modes {
    private Modes() {
    }

    /** Every mode on the class path, by name. */
    public static Map<String, NodeProgram.Factory> all() {
        Map<String, NodeProgram.Factory> m = new TreeMap<>();
        for (NodeProgram.Factory f : ServiceLoader.load(NodeProgram.Factory.class)) {
            m.put(f.mode(), f);
        }
        return m;
    }

    /** The factory of {@code mode}; a {@link SpecException} naming the known ones when there is none. */
    public static NodeProgram.Factory of(ClusterSpec.Mode mode) {
        Map<String, NodeProgram.Factory> all = all();
        NodeProgram.Factory f = all.get(mode.id());
        if (f == null) {
            throw new SpecException("no program for mode " + mode.id() + " on this class path (found: " + String.join(", ", all.keySet()) + ")");
        }
        return f;
    }
}
