package weft.security.ca;

import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import weft.security.SpiffeId;

/**
 * A loaded, checked signing CA: its certificate and key, the chain from it to the root, and the
 * roots the mesh trusts. Issues short-lived leaf certificates; it never decides who may have
 * which identity (the CSR service does).
 */
public final class CertificateAuthority {
  /** Istio's default workload certificate lifetime ({@code DEFAULT_WORKLOAD_CERT_TTL}). */
  public static final Duration DEFAULT_TTL = Duration.ofHours(24);
  /** Istio's default upper bound for a requested lifetime ({@code MAX_WORKLOAD_CERT_TTL}). */
  public static final Duration DEFAULT_MAX_TTL = Duration.ofDays(90);

  private final X509Certificate signingCert;
  private final PrivateKey signingKey;
  private final List<X509Certificate> chain;
  private final List<X509Certificate> roots;
  private final Clock clock;
  private final Duration defaultTtl;
  private final Duration maxTtl;
  private final String origin;

  CertificateAuthority(X509Certificate signingCert, PrivateKey signingKey, List<X509Certificate> chain,
      List<X509Certificate> roots, Clock clock, Duration defaultTtl, Duration maxTtl, String origin) {
    this.signingCert = Objects.requireNonNull(signingCert);
    this.signingKey = Objects.requireNonNull(signingKey);
    this.chain = List.copyOf(chain);
    this.roots = List.copyOf(roots);
    this.clock = Objects.requireNonNull(clock);
    if (defaultTtl.isNegative() || defaultTtl.isZero() || maxTtl.compareTo(defaultTtl) < 0) {
      throw new IllegalArgumentException("need 0 < default TTL <= max TTL, got " + defaultTtl + " and " + maxTtl);
    }
    this.defaultTtl = defaultTtl;
    this.maxTtl = maxTtl;
    this.origin = origin;
  }

  /** The same CA with other lifetimes for what it issues. */
  public CertificateAuthority withTtl(Duration defaultTtl, Duration maxTtl) {
    return new CertificateAuthority(signingCert, signingKey, chain, roots, clock, defaultTtl, maxTtl, origin);
  }

  /**
   * A workload certificate for {@code id} over {@code publicKey}: the SPIFFE URI is its only name.
   * {@code requested} of null, zero or less means the default lifetime; longer than the maximum is
   * cut to the maximum, and nothing outlives the signing certificate.
   *
   * @return the chain: the new leaf, the intermediates, the root last
   */
  public List<X509Certificate> issueWorkload(PublicKey publicKey, SpiffeId id, Duration requested) {
    GeneralNames sans = new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, id.toString()));
    return issue(publicKey, sans, requested);
  }

  /**
   * A certificate a server presents (the control plane's own, on the secure port): its DNS names and,
   * when given, its SPIFFE identity.
   */
  public List<X509Certificate> issueServing(PublicKey publicKey, List<String> dnsNames, SpiffeId id, Duration ttl) {
    List<GeneralName> names = new ArrayList<>();
    dnsNames.forEach(d -> names.add(new GeneralName(GeneralName.dNSName, d)));
    if (id != null) {
      names.add(new GeneralName(GeneralName.uniformResourceIdentifier, id.toString()));
    }
    if (names.isEmpty()) {
      throw new IllegalArgumentException("a serving certificate needs at least one name");
    }
    return issue(publicKey, new GeneralNames(names.toArray(GeneralName[]::new)), ttl);
  }

  /** The lifetime a request for {@code requested} gets. */
  public Duration lifetimeFor(Duration requested) {
    if (requested == null || requested.isZero() || requested.isNegative()) {
      return defaultTtl;
    }
    return requested.compareTo(maxTtl) > 0 ? maxTtl : requested;
  }

  private List<X509Certificate> issue(PublicKey publicKey, GeneralNames sans, Duration requested) {
    Instant now = Certificates.seconds(clock.instant());
    Instant caNotAfter = signingCert.getNotAfter().toInstant();
    if (!now.isBefore(caNotAfter)) {
      throw new CaException(null, "the signing CA certificate (" + signingCert.getSubjectX500Principal()
          + ") expired at " + caNotAfter + "; install a new one");
    }
    Instant notAfter = now.plus(lifetimeFor(requested));
    if (notAfter.isAfter(caNotAfter)) {
      notAfter = caNotAfter;
    }
    X509Certificate leaf = Certificates.leaf(publicKey, sans, signingCert, signingKey, now, notAfter);
    List<X509Certificate> out = new ArrayList<>(chain.size() + 1);
    out.add(leaf);
    out.addAll(chain);
    return List.copyOf(out);
  }

  /** The certificate that signs leaves. */
  public X509Certificate signingCertificate() {
    return signingCert;
  }

  /** From the signing certificate up to its root, inclusive; a self-signed root CA has one entry. */
  public List<X509Certificate> chain() {
    return chain;
  }

  /** The root that the chain ends at. */
  public X509Certificate root() {
    return chain.get(chain.size() - 1);
  }

  /**
   * Every root the mesh trusts from this CA directory: the chain's root first, then any other root
   * in {@code root-cert.pem} (kept there while a root is being replaced).
   */
  public List<X509Certificate> roots() {
    return roots;
  }

  public Clock clock() {
    return clock;
  }

  public Duration defaultTtl() {
    return defaultTtl;
  }

  public Duration maxTtl() {
    return maxTtl;
  }

  /** Where this CA came from, for the log: a plugged-in directory, a kept root, a new root. */
  public String origin() {
    return origin;
  }
}
