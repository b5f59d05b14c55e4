package io.ringtmp.cli;

import io.ringtmp.node.ClusterSpec;
import io.ringtmp.node.LinkTest;
import io.ringtmp.node.NodeProgram;
import io.ringtmp.ps.ParameterServer;

/** Which program a node runs for each mode of the cluster spec. */
final class Programs {
    private Programs() {
    }

    static NodeProgram.Factory forMode(ClusterSpec.Mode mode) {
        return switch (mode) {
            case LINKTEST -> LinkTest.FACTORY;
            case RING -> io.ringtmp.ring.RingProgram.FACTORY;
            case PS -> ParameterServer.FACTORY;
        };
    }
}
