package weft.security.trust;

import java.util.List;
import java.util.Objects;

/**
 * One entry of Istio MeshConfig's {@code caCertificates}: extra trusted roots, in PEM, for the
 * listed trust domains, or for every trust domain when none is listed (Istio's rule).
 * ({@code spiffeBundleUrl} and {@code certSigners} are not read yet.)
 */
public record MeshCaCertificate(String pem, List<String> trustDomains) {
  public MeshCaCertificate {
    Objects.requireNonNull(pem, "pem");
    trustDomains = List.copyOf(trustDomains);
  }
}
