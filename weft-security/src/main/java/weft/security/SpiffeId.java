package weft.security;

import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A workload identity in Istio's form, {@code spiffe://TRUST_DOMAIN/ns/NAMESPACE/sa/SERVICE_ACCOUNT}.
 * It is the only name a workload certificate carries.
 */
public record SpiffeId(String trustDomain, String namespace, String serviceAccount) {
  private static final String SCHEME = "spiffe://";
  // Trust domains are DNS-like names (SPIFFE ID spec, section 2.1): lower-case letters, digits, '.', '-', '_'.
  private static final Pattern TRUST_DOMAIN = Pattern.compile("[a-z0-9._-]+");
  // Namespaces and service accounts are Kubernetes names (DNS-1123 subdomain characters).
  private static final Pattern NAME = Pattern.compile("[a-z0-9]([a-z0-9.-]*[a-z0-9])?");

  public SpiffeId {
    Objects.requireNonNull(trustDomain, "trustDomain");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(serviceAccount, "serviceAccount");
    if (!TRUST_DOMAIN.matcher(trustDomain).matches()) {
      throw new IllegalArgumentException("trust domain '" + trustDomain + "' is not a valid SPIFFE trust domain");
    }
    if (!NAME.matcher(namespace).matches()) {
      throw new IllegalArgumentException("namespace '" + namespace + "' is not a valid Kubernetes name");
    }
    if (!NAME.matcher(serviceAccount).matches()) {
      throw new IllegalArgumentException("service account '" + serviceAccount + "' is not a valid Kubernetes name");
    }
  }

  /** Whether {@code name} can be a namespace or service account name. */
  public static boolean isValidName(String name) {
    return name != null && NAME.matcher(name).matches();
  }

  /** Parses Istio's form; anything else (another path shape, a query, a port) is empty. */
  public static Optional<SpiffeId> parse(String uri) {
    if (uri == null || !uri.startsWith(SCHEME)) {
      return Optional.empty();
    }
    String[] parts = uri.substring(SCHEME.length()).split("/", -1);
    if (parts.length != 5 || !parts[1].equals("ns") || !parts[3].equals("sa")) {
      return Optional.empty();
    }
    try {
      return Optional.of(new SpiffeId(parts[0], parts[2], parts[4]));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  /** The same workload under another trust domain (an alias of ours, say). */
  public SpiffeId inTrustDomain(String otherTrustDomain) {
    return new SpiffeId(otherTrustDomain, namespace, serviceAccount);
  }

  @Override
  public String toString() {
    return SCHEME + trustDomain + "/ns/" + namespace + "/sa/" + serviceAccount;
  }
}
