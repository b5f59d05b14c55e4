package io.ringtmp.node;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One node of a cluster spec. Ring order is the order of ids: node i sends activations to node
 * (i+1) mod N.
 *
 * @param id           0 .. N-1
 * @param host         host name or IP address the node listens on and peers connect to
 * @param port         TCP port, 1 .. 65535
 * @param memoryBytes  optional memory budget for the partitioner (null: unlimited)
 * @param speed        optional relative speed hint (1.0 = reference; null: measure)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record NodeSpec(int id, String host, int port, Long memoryBytes, Double speed) {
    public static NodeSpec of(int id, String host, int port) {
        return new NodeSpec(id, host, port, null, null);
    }

    public String address() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
