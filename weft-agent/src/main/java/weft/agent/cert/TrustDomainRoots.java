package weft.agent.cert;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import weft.security.ca.Pem;

/**
 * Which roots vouch for which trust domain on the workload's side: the roots our CA hands out for
 * our trust domain and its aliases (MeshConfig {@code trustDomainAliases}), and a PEM file per peer
 * trust domain (a federated mesh's bundle). Never one pool: a peer's root is filed under the
 * peer's domain only, so it cannot vouch for an identity of ours.
 *
 * <p>Peer files are re-read at every certificate installation; a file that cannot be read keeps
 * the roots last read from it (and says so in the log), so a bad write does not drop a peer. Peers'
 * roots may also come from the control plane ({@link #setDelivered}, what {@link TrustBundleWatcher}
 * receives): they are added to a file's roots for the same domain, and any the control plane names
 * for our own domain or an alias are ignored (ours come only from our CA).
 * Thread-safety: {@link #bundleMap} and {@link #setDelivered} are synchronized.
 */
public final class TrustDomainRoots {
  private static final System.Logger LOG = System.getLogger(TrustDomainRoots.class.getName());
  private final String trustDomain;
  private final List<String> aliases;
  private final Map<String, Path> peerFiles;
  private final Map<String, List<X509Certificate>> lastGood = new HashMap<>();
  // @GuardedBy("this")
  private Map<String, List<X509Certificate>> delivered = Map.of();

  /**
   * @param trustDomain our trust domain
   * @param aliases other names of our trust domain, validated with our roots
   * @param peerFiles peer trust domain to a PEM file of its roots
   * @throws IllegalArgumentException when a peer claims our trust domain or one of its aliases
   */
  public TrustDomainRoots(String trustDomain, List<String> aliases, Map<String, Path> peerFiles) {
    this.trustDomain = Objects.requireNonNull(trustDomain, "trustDomain");
    this.aliases = List.copyOf(aliases);
    this.peerFiles = new LinkedHashMap<>(peerFiles);
    for (String peer : peerFiles.keySet()) {
      if (peer.equals(trustDomain) || aliases.contains(peer)) {
        throw new IllegalArgumentException("peer trust bundle for " + peer + ": that is this mesh's own trust domain"
            + " (or an alias of it), whose roots come only from our CA; remove it");
      }
    }
  }

  /** Roots only for our own domain (and aliases): no peers. */
  public static TrustDomainRoots ours(String trustDomain) {
    return new TrustDomainRoots(trustDomain, List.of(), Map.of());
  }

  /** The map for these roots of ours, peers' files read now. */
  public synchronized SpiffeBundleMap bundleMap(List<X509Certificate> ourRoots) {
    Map<String, List<X509Certificate>> map = new LinkedHashMap<>();
    map.put(trustDomain, ourRoots);
    aliases.forEach(a -> map.put(a, ourRoots));
    peerFiles.forEach((domain, file) -> {
      List<X509Certificate> roots = read(domain, file);
      if (roots != null) map.put(domain, roots);
    });
    delivered.forEach((domain, roots) -> {
      List<X509Certificate> merged = new java.util.ArrayList<>(map.getOrDefault(domain, List.of()));
      roots.stream().filter(r -> !merged.contains(r)).forEach(merged::add);
      map.put(domain, merged);
    });
    return new SpiffeBundleMap(map);
  }

  /**
   * The peers' roots as the control plane sends them now (trust domain to roots), replacing the last
   * ones: a domain it no longer names is no longer trusted through it. Entries for our own domain or
   * an alias are left out.
   *
   * @return whether the peers' roots changed (the map file should then be written again)
   */
  public synchronized boolean setDelivered(Map<String, List<X509Certificate>> peers) {
    Map<String, List<X509Certificate>> next = new LinkedHashMap<>();
    peers.forEach((domain, roots) -> {
      if (!isOurs(domain) && !roots.isEmpty()) next.put(domain, List.copyOf(roots));
    });
    if (next.equals(delivered)) return false;
    delivered = java.util.Collections.unmodifiableMap(next);
    return true;
  }

  /** Whether {@code domain} is our trust domain or one of its aliases. */
  public boolean isOurs(String domain) {
    return domain.equals(trustDomain) || aliases.contains(domain);
  }

  private List<X509Certificate> read(String domain, Path file) {
    try {
      List<X509Certificate> roots = Pem.parseCertificates(Files.readString(file), file);
      if (roots.isEmpty()) throw new IOException("no certificate in it");
      lastGood.put(domain, roots);
      return roots;
    } catch (IOException | RuntimeException e) {
      List<X509Certificate> kept = lastGood.get(domain);
      LOG.log(System.Logger.Level.WARNING, "peer trust bundle " + domain + ": "
          + e.getMessage() + (kept != null ? "; keeping the roots last read from it"
          : "; its identities are refused until the file holds PEM certificates"));
      return kept;
    }
  }
}
