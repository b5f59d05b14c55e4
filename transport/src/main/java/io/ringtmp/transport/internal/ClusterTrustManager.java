package io.ringtmp.transport.internal;

import io.ringtmp.transport.tls.NodeIds;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * Decides whether a peer's certificate may join, for both ends of a TLS connection: it must carry
 * a node id, be valid now, be signed by one of the cluster's CAs and pass the JDK's PKIX path
 * validation (key usage, extended key usage) against them. Each refusal is a
 * {@link CertificateException} whose message says which of these failed, in words; the
 * connection's handler logs it. Whether the id is the one the peer claims is checked after the
 * handshake ({@link ConnectionHandler}), where the claim is known. Immutable; any thread.
 */
public final class ClusterTrustManager extends X509ExtendedTrustManager {
    private final List<X509Certificate> cas;
    private final X509ExtendedTrustManager pkix;

    public ClusterTrustManager(List<X509Certificate> cas) {
        this.cas = List.copyOf(cas);
        try {
            KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
            ks.load(null, null);
            for (int i = 0; i < this.cas.size(); i++) {
                ks.setCertificateEntry("ringtmp-ca-" + i, this.cas.get(i));
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(ks);
            X509ExtendedTrustManager found = null;
            for (TrustManager tm : tmf.getTrustManagers()) {
                if (tm instanceof X509ExtendedTrustManager x) {
                    found = x;
                }
            }
            if (found == null) {
                throw new IllegalStateException("the JDK's PKIX TrustManagerFactory gave no X509ExtendedTrustManager");
            }
            this.pkix = found;
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("cannot set up a trust manager for the cluster CA: " + e.getMessage(), e);
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        admit(chain);
        pkix.checkClientTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        admit(chain);
        pkix.checkServerTrusted(chain, authType, engine);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        admit(chain);
        pkix.checkClientTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        admit(chain);
        pkix.checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        admit(chain);
        pkix.checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        admit(chain);
        pkix.checkServerTrusted(chain, authType);
    }

    /**
     * None: a server that named its CAs in its certificate request would make a client with a
     * certificate of another CA send none at all, and the refusal could not say whose CA it was.
     */
    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
    }

    /** The checks whose failures deserve their own words, before the generic PKIX validation. */
    private void admit(X509Certificate[] chain) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new CertificateException("the peer sent no certificate");
        }
        X509Certificate leaf = chain[0];
        String who = NodeIds.describe(leaf);
        if (NodeIds.of(leaf).isEmpty()) {
            throw new CertificateException("the peer's certificate " + who + " carries no node id: not a ringtmp node certificate");
        }
        try {
            leaf.checkValidity();
        } catch (CertificateExpiredException e) {
            // These two types (not a plain CertificateException) let BoringSSL send the matching alert.
            throw new CertificateExpiredException("the certificate of " + who + " expired at " + leaf.getNotAfter().toInstant());
        } catch (CertificateNotYetValidException e) {
            throw new CertificateNotYetValidException("the certificate of " + who + " is not valid before "
                    + leaf.getNotBefore().toInstant() + " (a clock off?)");
        }
        if (issuer(leaf) == null) {
            throw new CertificateException("the certificate of " + who + " is issued by '" + leaf.getIssuerX500Principal().getName()
                    + "', not by this cluster's CA (" + String.join(", ", cas.stream()
                    .map(c -> "'" + c.getSubjectX500Principal().getName() + "'").toList()) + ")");
        }
    }

    private X509Certificate issuer(X509Certificate leaf) {
        for (X509Certificate ca : cas) {
            if (ca.getSubjectX500Principal().equals(leaf.getIssuerX500Principal())) {
                try {
                    leaf.verify(ca.getPublicKey());
                    return ca;
                } catch (GeneralSecurityException e) {
                    // A CA of the same name with another key: an impostor, or a rotated CA not trusted here.
                }
            }
        }
        return null;
    }
}
