package io.ringtmp.transport.tls;

import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.OptionalInt;

/**
 * Where a node certificate says which node it belongs to: a URI subject alternative name
 * {@code ringtmp:node:<id>} (one, a decimal id &ge; 0). The host the node listens on is a DNS or
 * IP SAN beside it, and the subject's CN repeats the id for people ({@code ringtmp node 3}); only
 * the URI SAN is checked.
 */
public final class NodeIds {
    /** The URI SAN's prefix; the node id follows. */
    public static final String URI_PREFIX = "ringtmp:node:";
    private static final int SAN_URI = 6;

    private NodeIds() {
    }

    /** {@code ringtmp:node:<id>}. */
    public static String uri(int nodeId) {
        if (nodeId < 0) {
            throw new IllegalArgumentException("nodeId must be >= 0, got " + nodeId);
        }
        return URI_PREFIX + nodeId;
    }

    /**
     * The node id {@code cert} carries, or empty when it carries none. A certificate with two
     * different ids, or a malformed one, carries none: it cannot stand for one node.
     */
    public static OptionalInt of(X509Certificate cert) {
        Collection<List<?>> sans;
        try {
            sans = cert.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return OptionalInt.empty();
        }
        if (sans == null) {
            return OptionalInt.empty();
        }
        OptionalInt found = OptionalInt.empty();
        for (List<?> san : sans) {
            if (san.size() < 2 || !(san.get(0) instanceof Integer type) || type != SAN_URI
                    || !(san.get(1) instanceof String uri) || !uri.startsWith(URI_PREFIX)) {
                continue;
            }
            int id;
            try {
                id = Integer.parseInt(uri.substring(URI_PREFIX.length()));
            } catch (NumberFormatException e) {
                return OptionalInt.empty();
            }
            if (id < 0 || found.isPresent() && found.getAsInt() != id) {
                return OptionalInt.empty();
            }
            found = OptionalInt.of(id);
        }
        return found;
    }

    /** "node 3 ('CN=ringtmp node 3')", or "'CN=…' (no node id)", for messages. */
    public static String describe(X509Certificate cert) {
        OptionalInt id = of(cert);
        String subject = "'" + cert.getSubjectX500Principal().getName() + "'";
        return id.isPresent() ? "node " + id.getAsInt() + " (" + subject + ")" : subject + " (no " + URI_PREFIX + "<id> SAN)";
    }
}
