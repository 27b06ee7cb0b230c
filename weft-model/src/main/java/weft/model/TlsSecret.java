package weft.model;

import java.time.Instant;
import java.util.Arrays;

/**
 * The TLS material of a Kubernetes v1 Secret, as Istio's credential controller reads it for
 * {@code credentialName}: a certificate chain with its private key ({@code tls.crt}/{@code tls.key},
 * or Istio's generic {@code cert}/{@code key}) and CA certificates ({@code ca.crt} or
 * {@code cacert}), each already checked (PEM parses, the key matches the certificate). Any part may
 * be absent; other data of the Secret is never kept.
 *
 * <p>The private key is held in a {@link Key}, whose {@code toString} never shows it, so neither
 * this record's {@code toString} nor a log line built from it can leak it.
 *
 * @param type the Secret's {@code type} (e.g. {@code kubernetes.io/tls}, {@code Opaque})
 * @param certificateChain PEM, leaf first; null when the Secret holds no certificate and key
 * @param privateKey the key of the chain's leaf; null exactly when {@code certificateChain} is
 * @param caCertificates PEM; null when the Secret holds none
 * @param notAfter when the leaf certificate expires; null without one
 * @param subject the leaf certificate's subject, for status; empty without one
 */
public record TlsSecret(ResourceId id, String type, String certificateChain, Key privateKey, String caCertificates,
    Instant notAfter, String subject) implements Resource {
  public TlsSecret {
    if ((certificateChain == null) != (privateKey == null)) {
      throw new IllegalArgumentException("a certificate chain and its key go together");
    }
    subject = subject == null ? "" : subject;
  }

  public boolean hasCertificate() {
    return certificateChain != null;
  }

  public boolean hasCaCertificates() {
    return caCertificates != null;
  }

  /** A private key in PEM: compared by content, never printed. */
  public static final class Key {
    private final byte[] pem;

    public Key(byte[] pem) {
      this.pem = pem.clone();
    }

    /** A copy of the PEM bytes: only for the SDS response that carries them to an authorised proxy. */
    public byte[] pem() {
      return pem.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && Arrays.equals(pem, k.pem);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(pem);
    }

    @Override
    public String toString() {
      return "[redacted private key]";
    }
  }
}
