package io.ringtmp.transport.internal;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.ringtmp.transport.TransportException;
import io.ringtmp.transport.tls.TlsConfig;
import io.ringtmp.transport.tls.TlsCredentials;
import io.ringtmp.transport.tls.TlsProvider;

import javax.net.ssl.SSLException;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * The two Netty {@link SslContext}s of a TLS transport: one for accepted connections (it asks
 * every client for a certificate and refuses one without), one for connections it opens. Both
 * speak TLS 1.3 with AES-128-GCM only and trust the cluster's CAs through a
 * {@link ClusterTrustManager}. Host-name verification is off: a node's identity is the node id
 * in its certificate, checked against what it claims ({@link ConnectionHandler}), not the name
 * a peer happened to be reached by. Built once per transport; the contexts are thread-safe.
 *
 * @param server for accepted connections
 * @param client for opened connections
 */
public record TlsContexts(SslContext server, SslContext client) {
    public static TlsContexts of(TlsConfig tls) {
        TlsCredentials c = tls.credentials();
        X509Certificate[] chain = {c.certificate()};
        try {
            SslContext server = common(SslContextBuilder.forServer(c.key(), chain), tls).clientAuth(ClientAuth.REQUIRE).build();
            SslContext client = common(SslContextBuilder.forClient().keyManager(c.key(), chain), tls)
                    .endpointIdentificationAlgorithm(null).build();
            return new TlsContexts(server, client);
        } catch (SSLException | RuntimeException e) {
            throw new TransportException("cannot set up TLS with " + tls.provider() + " for " + c.certificate().getSubjectX500Principal()
                    .getName() + ": " + e.getMessage(), false, e);
        }
    }

    private static SslContextBuilder common(SslContextBuilder b, TlsConfig tls) {
        b.protocols(TlsConfig.PROTOCOL).trustManager(new ClusterTrustManager(tls.credentials().trustedCas()));
        if (tls.provider() == TlsProvider.OPENSSL) {
            // BoringSSL's TLS 1.3 suites cannot be chosen (Netty says so at INFO when asked); it
            // prefers AES-128-GCM where the CPU has AES instructions, which both ends then pick.
            return b.sslProvider(SslProvider.OPENSSL);
        }
        return b.sslProvider(SslProvider.JDK).ciphers(List.of(TlsConfig.CIPHER_SUITE));
    }
}
