package io.ringtmp.transport.tls;

import io.netty.handler.ssl.OpenSsl;

/**
 * Which library runs TLS: BoringSSL through netty-tcnative ({@link #OPENSSL}), where its native
 * library loads on this machine, or the JDK's own JSSE ({@link #JDK}) everywhere. Both run TLS
 * 1.3 with AES-128-GCM; BoringSSL is the faster (docs/security.md has the figures).
 */
public enum TlsProvider {
    /** BoringSSL (netty-tcnative-boringssl-static), when {@link #isAvailable()}. */
    OPENSSL,
    /** The JDK's JSSE; always available. */
    JDK;

    /** Whether this provider can run here: the JDK always, BoringSSL when its native library loaded. */
    public boolean isAvailable() {
        return this == JDK || OpenSsl.isAvailable();
    }

    /** {@link #OPENSSL} where it loads, else {@link #JDK}. */
    public static TlsProvider best() {
        return OPENSSL.isAvailable() ? OPENSSL : JDK;
    }

    /**
     * One line for the start-up log: "OpenSSL (BoringSSL) through netty-tcnative" or "JDK
     * (SunJSSE); BoringSSL did not load: why".
     */
    public String describe() {
        if (this == OPENSSL) {
            return "OpenSSL (" + OpenSsl.versionString() + ") through netty-tcnative";
        }
        Throwable why = OpenSsl.unavailabilityCause();
        return "JDK (" + javax.net.ssl.SSLContext.class.getPackageName() + ", Java " + Runtime.version().feature() + ")"
                + (why == null ? "" : "; BoringSSL did not load: " + why.getMessage());
    }
}
