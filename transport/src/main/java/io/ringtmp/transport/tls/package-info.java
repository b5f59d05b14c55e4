/**
 * Mutual TLS between nodes: a cluster CA that issues one certificate per node ({@link ClusterCa}),
 * the node id carried in each certificate ({@link NodeIds}), PEM files ({@link Pem}), a node's
 * loaded credentials ({@link TlsCredentials}) and the provider that runs TLS ({@link TlsProvider}).
 * A {@link TlsConfig} on a {@link io.ringtmp.transport.TransportConfig} turns TLS on for a
 * {@link io.ringtmp.transport.NettyTransport}; docs/security.md says what it protects.
 */
package io.ringtmp.transport.tls;
