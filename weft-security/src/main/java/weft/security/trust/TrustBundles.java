package weft.security.trust;

import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import weft.model.MeshConfig;
import weft.security.ca.CaException;
import weft.security.ca.Pem;

/**
 * Which roots are trusted for which trust domain: ours (and its aliases) from our CA, plus
 * MeshConfig {@code caCertificates}. A peer's certificate is checked against the roots of the trust
 * domain in its SPIFFE id, so trust with another mesh is one more entry here (federation), not a
 * change of design. Immutable; a change makes a new instance.
 */
public final class TrustBundles {
  private final String trustDomain;
  private final Map<String, List<X509Certificate>> byDomain;
  private final List<X509Certificate> anyDomain;

  private TrustBundles(String trustDomain, Map<String, List<X509Certificate>> byDomain,
      List<X509Certificate> anyDomain) {
    this.trustDomain = trustDomain;
    Map<String, List<X509Certificate>> copy = new LinkedHashMap<>();
    byDomain.forEach((td, roots) -> copy.put(td, List.copyOf(union(roots, anyDomain))));
    this.byDomain = Collections.unmodifiableMap(copy);
    this.anyDomain = List.copyOf(anyDomain);
  }

  /** Bundles from the mesh's trust domain and aliases, our CA's roots and MeshConfig's extra roots. */
  public static TrustBundles of(MeshConfig mesh, List<X509Certificate> ourRoots, List<MeshCaCertificate> caCertificates) {
    return of(mesh.trustDomain(), mesh.trustDomainAliases(), ourRoots, caCertificates);
  }

  /**
   * @param trustDomain our trust domain
   * @param aliases trust domains that are ours under another name (MeshConfig {@code trustDomainAliases}):
   *     same roots as ours
   * @param ourRoots roots of our CA, the one whose chain ends the workloads' certificates first
   * @param caCertificates MeshConfig {@code caCertificates}
   * @throws IllegalArgumentException naming the entry whose PEM cannot be read
   */
  public static TrustBundles of(String trustDomain, List<String> aliases, List<X509Certificate> ourRoots,
      List<MeshCaCertificate> caCertificates) {
    Objects.requireNonNull(trustDomain, "trustDomain");
    Map<String, List<X509Certificate>> map = new LinkedHashMap<>();
    List<X509Certificate> any = new ArrayList<>();
    map.put(trustDomain, new ArrayList<>(ourRoots));
    for (String alias : aliases) {
      map.computeIfAbsent(alias, a -> new ArrayList<>()).addAll(ourRoots);
    }
    for (int i = 0; i < caCertificates.size(); i++) {
      MeshCaCertificate entry = caCertificates.get(i);
      List<X509Certificate> certs;
      try {
        certs = Pem.parseCertificates(entry.pem(), null);
      } catch (CaException e) {
        throw new IllegalArgumentException("MeshConfig caCertificates[" + i + "].pem: " + e.getMessage(), e);
      }
      if (entry.trustDomains().isEmpty()) {
        any.addAll(certs);
      } else {
        entry.trustDomains().forEach(td -> map.computeIfAbsent(td, t -> new ArrayList<>()).addAll(certs));
      }
    }
    return new TrustBundles(trustDomain, map, any);
  }

  /** The same bundles with {@code roots} added for {@code domain} (a federated mesh, say). */
  public TrustBundles withRoots(String domain, List<X509Certificate> roots) {
    Map<String, List<X509Certificate>> map = new LinkedHashMap<>(byDomain);
    map.put(domain, union(map.getOrDefault(domain, List.of()), roots));
    return new TrustBundles(trustDomain, map, anyDomain);
  }

  public String trustDomain() {
    return trustDomain;
  }

  /** Trust domain to roots, ours first; each list without duplicates. */
  public Map<String, List<X509Certificate>> byTrustDomain() {
    return byDomain;
  }

  /** Roots that vouch for identities in {@code domain}; empty when nothing is trusted for it. */
  public List<X509Certificate> roots(String domain) {
    List<X509Certificate> roots = byDomain.get(domain);
    return roots != null ? roots : anyDomain;
  }

  /** Every root of every trust domain, once each: what a TLS peer that cannot tell domains apart trusts. */
  public List<X509Certificate> allRoots() {
    List<X509Certificate> all = new ArrayList<>();
    byDomain.values().forEach(all::addAll);
    return union(all, anyDomain);
  }

  /** {@link #roots(String)} as PEM text, for SDS validation contexts and agents. */
  public String pem(String domain) {
    return Pem.encode(roots(domain));
  }

  private static List<X509Certificate> union(List<X509Certificate> a, List<X509Certificate> b) {
    List<X509Certificate> out = new ArrayList<>();
    List<byte[]> seen = new ArrayList<>();
    for (List<X509Certificate> list : List.of(a, b)) {
      for (X509Certificate c : list) {
        byte[] der = der(c);
        if (seen.stream().noneMatch(s -> Arrays.equals(s, der))) {
          seen.add(der);
          out.add(c);
        }
      }
    }
    return List.copyOf(out);
  }

  private static byte[] der(X509Certificate c) {
    try {
      return c.getEncoded();
    } catch (CertificateEncodingException e) {
      throw new IllegalArgumentException("a root certificate cannot be encoded", e);
    }
  }
}
