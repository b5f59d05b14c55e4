package io.ringtmp.transport.tls;

import java.util.Objects;

/**
 * TLS settings of one node's transport: its credentials and the provider. With a TlsConfig on
 * its {@link io.ringtmp.transport.TransportConfig}, a {@link io.ringtmp.transport.NettyTransport}
 * speaks TLS 1.3 only, with AES-128-GCM, requires a certificate from every peer that chains to
 * {@link TlsCredentials#trustedCas()} and carries the node id the peer claims, and refuses
 * anything else (plaintext included). Immutable.
 *
 * @param credentials trusted CAs, this node's certificate and key
 * @param provider    BoringSSL or the JDK; must be {@link TlsProvider#isAvailable() available}
 */
public record TlsConfig(TlsCredentials credentials, TlsProvider provider) {
    /** The one cipher suite offered and accepted. */
    public static final String CIPHER_SUITE = "TLS_AES_128_GCM_SHA256";
    /** The one protocol version offered and accepted. */
    public static final String PROTOCOL = "TLSv1.3";

    public TlsConfig {
        Objects.requireNonNull(credentials, "credentials");
        Objects.requireNonNull(provider, "provider");
        if (!provider.isAvailable()) {
            throw new IllegalArgumentException("TLS provider " + provider + " is not available here: " + provider.describe());
        }
    }

    /** With the best provider here ({@link TlsProvider#best()}). */
    public static TlsConfig of(TlsCredentials credentials) {
        return new TlsConfig(credentials, TlsProvider.best());
    }

    /** "TLSv1.3 TLS_AES_128_GCM_SHA256, mutual, node 3, OpenSSL (BoringSSL) through netty-tcnative". */
    public String describe() {
        return PROTOCOL + " " + CIPHER_SUITE + ", mutual, as " + NodeIds.describe(credentials.certificate()) + ", trusting "
                + TlsCredentials.subjects(credentials.trustedCas()) + "; " + provider.describe();
    }
}
