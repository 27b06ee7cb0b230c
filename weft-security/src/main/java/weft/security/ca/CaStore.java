package weft.security.ca;

import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;

/**
 * The CA directory ({@code --ca-dir}). Three states, checked in this order:
 * <ol>
 *   <li>Plugged-in CA, Istio's names: {@code ca-cert.pem}, {@code ca-key.pem}, {@code cert-chain.pem},
 *       {@code root-cert.pem}. Several control planes share one root, each with its own intermediate.
 *   <li>A root of our own: {@code root-cert.pem} and {@code root-key.pem}, as a previous start (or
 *       {@code weft ca init-root}) left them.
 *   <li>Nothing of either: a new self-signed root is made and written there, once.
 * </ol>
 * Loading only reads. Files that do not fit together (a key that is not the certificate's, a chain
 * that does not reach the root, half a pair) are an error naming the file, never a reason to make
 * new ones: a new root would silently cut every workload off from the rest of the mesh.
 *
 * <p>A signing certificate that is self-signed is the mesh root itself. Signing workloads with the
 * root's key keeps that key online on every control plane, where one stolen copy forges any
 * identity in every cluster, for ten years; the shared-root model exists to keep it offline (Istio's
 * plug-in CA guide makes one intermediate per cluster for this reason). So a self-signed signing
 * certificate is refused unless this store made it itself ({@link CaFiles#SELF_SIGNED_MARKER}, which
 * names the root's fingerprint) or the operator says so ({@code --ca-self-signed-root}).
 */
public final class CaStore {
  private static final System.Logger LOG = System.getLogger(CaStore.class.getName());
  // Istio's self-signed root lives ten years (citadel's default CA certificate TTL).
  static final Duration ROOT_TTL = Duration.ofDays(3650);

  private CaStore() {}

  public static CertificateAuthority loadOrCreate(Path caDir, String trustDomain, Clock clock) {
    return loadOrCreate(caDir, trustDomain, clock, false);
  }

  /**
   * @param selfSignedRootAllowed sign with a self-signed root this store did not make
   *     ({@code --ca-self-signed-root}); otherwise such a directory is refused, naming
   *     {@code weft ca intermediate}
   */
  public static CertificateAuthority loadOrCreate(Path caDir, String trustDomain, Clock clock,
      boolean selfSignedRootAllowed) {
    if (Files.exists(caDir) && !Files.isDirectory(caDir)) {
      throw new CaException(caDir, "is not a directory; --ca-dir names the directory that holds the CA files");
    }
    if (anyExists(caDir, CaFiles.CA_CERT, CaFiles.CA_KEY, CaFiles.CERT_CHAIN)) {
      CertificateAuthority ca = loadPluggedIn(caDir, clock);
      refuseForeignRoot(caDir, caDir.resolve(CaFiles.CA_CERT), ca.signingCertificate(), selfSignedRootAllowed);
      warnIfReadableByOthers(caDir.resolve(CaFiles.CA_KEY));
      LOG.log(System.Logger.Level.INFO, ca.origin());
      return ca;
    }
    if (anyExists(caDir, CaFiles.ROOT_CERT, CaFiles.ROOT_KEY)) {
      CertificateAuthority ca = loadOwnRoot(caDir, clock);
      refuseForeignRoot(caDir, caDir.resolve(CaFiles.ROOT_CERT), ca.signingCertificate(), selfSignedRootAllowed);
      warnIfReadableByOthers(caDir.resolve(CaFiles.ROOT_KEY));
      LOG.log(System.Logger.Level.INFO, ca.origin());
      return ca;
    }
    CertificateAuthority ca = createRoot(caDir, trustDomain, clock);
    LOG.log(System.Logger.Level.INFO, ca.origin());
    return ca;
  }

  static CertificateAuthority loadPluggedIn(Path dir, Clock clock) {
    for (String name : List.of(CaFiles.CA_CERT, CaFiles.CA_KEY, CaFiles.ROOT_CERT)) {
      if (!Files.exists(dir.resolve(name))) {
        throw new CaException(dir.resolve(name), "is missing: a plugged-in CA (Istio's cacerts) needs "
            + CaFiles.CA_CERT + ", " + CaFiles.CA_KEY + ", " + CaFiles.CERT_CHAIN + " and " + CaFiles.ROOT_CERT
            + " together; add it, or remove the others to let Weft keep a root of its own");
      }
    }
    Path certFile = dir.resolve(CaFiles.CA_CERT);
    Path keyFile = dir.resolve(CaFiles.CA_KEY);
    Path chainFile = dir.resolve(CaFiles.CERT_CHAIN);
    Path rootFile = dir.resolve(CaFiles.ROOT_CERT);
    X509Certificate caCert = Pem.readCertificates(certFile).get(0);
    PrivateKey caKey = Pem.readPrivateKey(keyFile);
    List<X509Certificate> roots = Pem.readCertificates(rootFile);
    requireCa(certFile, caCert);
    requireKeyMatches(keyFile, caKey, certFile, caCert);
    List<X509Certificate> listed = Files.exists(chainFile) ? Pem.readCertificates(chainFile) : List.of();
    List<X509Certificate> chain = buildChain(caCert, certFile, listed, chainFile, roots, rootFile);
    for (int i = 0; i < chain.size(); i++) {
      Path file = i == 0 ? certFile : i == chain.size() - 1 ? rootFile : chainFile;
      checkValidity(clock.instant(), chain.get(i), file);
    }
    X509Certificate root = chain.get(chain.size() - 1);
    return new CertificateAuthority(caCert, caKey, chain, rootsFirst(root, roots), clock,
        CertificateAuthority.DEFAULT_TTL, CertificateAuthority.DEFAULT_MAX_TTL,
        "CA: plugged-in certificates from " + dir + " (signing " + caCert.getSubjectX500Principal()
            + ", root " + root.getSubjectX500Principal() + ")");
  }

  static CertificateAuthority loadOwnRoot(Path dir, Clock clock) {
    Path certFile = dir.resolve(CaFiles.ROOT_CERT);
    Path keyFile = dir.resolve(CaFiles.ROOT_KEY);
    for (Path p : List.of(certFile, keyFile)) {
      if (!Files.exists(p)) {
        throw new CaException(p, "is missing while its pair is present; Weft does not make a new root over a "
            + "kept one (workloads would lose trust). Restore it, or empty " + dir + " to make a new root");
      }
    }
    List<X509Certificate> roots = Pem.readCertificates(certFile);
    X509Certificate root = roots.get(0);
    PrivateKey key = Pem.readPrivateKey(keyFile);
    requireCa(certFile, root);
    if (!Certificates.isSelfSigned(root)) {
      throw new CaException(certFile, "the first certificate is not self-signed, so it is not a root; for an "
          + "intermediate use Istio's plugged-in files (" + CaFiles.CA_CERT + ", " + CaFiles.CA_KEY + ", "
          + CaFiles.CERT_CHAIN + ", " + CaFiles.ROOT_CERT + ")");
    }
    requireKeyMatches(keyFile, key, certFile, root);
    checkValidity(clock.instant(), root, certFile);
    return new CertificateAuthority(root, key, List.of(root), roots, clock, CertificateAuthority.DEFAULT_TTL,
        CertificateAuthority.DEFAULT_MAX_TTL, "CA: self-signed root kept in " + dir + " (serial "
            + root.getSerialNumber().toString(16) + ")");
  }

  /** A self-signed signing certificate that this store did not make, without the operator's word, is refused. */
  private static void refuseForeignRoot(Path dir, Path certFile, X509Certificate signing, boolean allowed) {
    if (allowed || !Certificates.isSelfSigned(signing) || CaFiles.markerNames(dir, signing)) return;
    throw new CaException(certFile, "is a self-signed root (" + signing.getSubjectX500Principal() + "), so the "
        + "control plane would sign workload certificates with the mesh root's key; keep the root offline and give "
        + "each cluster an intermediate: weft ca intermediate --root " + dir + " --cluster CLUSTER_ID --out DIR, "
        + "then --ca-dir DIR (or start with --ca-self-signed-root to sign with this root anyway)");
  }

  private static void warnIfReadableByOthers(Path key) {
    try {
      if (Files.getFileStore(key).supportsFileAttributeView("posix")) {
        var mode = Files.getPosixFilePermissions(key);
        if (mode.contains(java.nio.file.attribute.PosixFilePermission.GROUP_READ)
            || mode.contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ)) {
          LOG.log(System.Logger.Level.WARNING, key + ": the CA's private key is readable by other users (mode "
              + java.nio.file.attribute.PosixFilePermissions.toString(mode) + "); chmod 600 it");
        }
      }
    } catch (java.io.IOException | UnsupportedOperationException e) {
      // the mode is advice only; loading already read the file
    }
  }

  static CertificateAuthority createRoot(Path dir, String trustDomain, Clock clock) {
    KeyPair keys = Certificates.newKeyPair();
    Instant now = clock.instant();
    X509Certificate root = Certificates.root(keys, rootSubject(trustDomain), now, now.plus(ROOT_TTL));
    // The marker first: a crash before the key leaves only it, and the next start makes the root
    // (and the marker) again; after the key it names the root that is about to be written.
    CaFiles.writeMarker(dir, root);
    // Key first: a crash between the two leaves a key without a certificate, which the next start
    // reports instead of silently replacing.
    CaFiles.writeNew(dir.resolve(CaFiles.ROOT_KEY), Pem.encodePrivateKey(keys.getPrivate()), true);
    CaFiles.writeNew(dir.resolve(CaFiles.ROOT_CERT), Pem.encode(root), false);
    return new CertificateAuthority(root, keys.getPrivate(), List.of(root), List.of(root), clock,
        CertificateAuthority.DEFAULT_TTL, CertificateAuthority.DEFAULT_MAX_TTL,
        "CA: created a self-signed root for trust domain " + trustDomain + " in " + dir + " (serial "
            + root.getSerialNumber().toString(16) + "); it is kept and reused from now on");
  }

  static X500Name rootSubject(String trustDomain) {
    // Istio puts the trust domain in the root's O; the CN only helps people reading it.
    return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, trustDomain)
        .addRDN(BCStyle.CN, "Weft root CA").build();
  }

  static void requireCa(Path file, X509Certificate cert) {
    if (!Certificates.isCa(cert)) {
      throw new CaException(file, "certificate " + cert.getSubjectX500Principal()
          + " is not a CA certificate (basicConstraints CA:TRUE missing); it cannot sign certificates");
    }
  }

  static void requireKeyMatches(Path keyFile, PrivateKey key, Path certFile, X509Certificate cert) {
    if (!Certificates.keyMatches(key, cert.getPublicKey())) {
      throw new CaException(keyFile, "this private key does not belong to the certificate in "
          + certFile.getFileName() + " (" + cert.getSubjectX500Principal() + "); put the matching key and "
          + "certificate side by side. Nothing was changed");
    }
  }

  /**
   * The chain from {@code caCert} to a root of {@code roots}, with what {@code cert-chain.pem} lists
   * in between. Istio's tools write {@code cert-chain.pem} as the CA certificate followed by the root,
   * others list only the intermediates: both are accepted, each link must be signed by the next.
   */
  static List<X509Certificate> buildChain(X509Certificate caCert, Path certFile, List<X509Certificate> listed,
      Path chainFile, List<X509Certificate> roots, Path rootFile) {
    List<X509Certificate> middle = new ArrayList<>(listed);
    if (!middle.isEmpty() && Certificates.sameCertificate(middle.get(0), caCert)) {
      middle.remove(0);
    }
    while (!middle.isEmpty() && isOneOf(middle.get(middle.size() - 1), roots)) {
      middle.remove(middle.size() - 1);
    }
    List<X509Certificate> chain = new ArrayList<>();
    chain.add(caCert);
    X509Certificate below = caCert;
    Path belowFile = certFile;
    for (int i = 0; i < middle.size(); i++) {
      X509Certificate next = middle.get(i);
      if (!Certificates.signedBy(below, next)) {
        throw new CaException(chainFile, "certificate " + (i + 1) + " of the chain (" + next.getSubjectX500Principal()
            + ") did not sign " + below.getSubjectX500Principal() + " from " + belowFile.getFileName()
            + "; list the chain from the CA certificate up to the root, in order");
      }
      requireCa(chainFile, next);
      chain.add(next);
      below = next;
      belowFile = chainFile;
    }
    if (isOneOf(below, roots)) {
      return List.copyOf(chain); // the CA certificate is itself a root
    }
    for (X509Certificate root : roots) {
      if (Certificates.signedBy(below, root)) {
        requireCa(rootFile, root);
        chain.add(root);
        return List.copyOf(chain);
      }
    }
    throw new CaException(rootFile, "no root here signed " + below.getSubjectX500Principal() + " (issuer "
        + below.getIssuerX500Principal() + ", from " + belowFile.getFileName() + "); "
        + CaFiles.ROOT_CERT + " must hold the root that " + CaFiles.CA_CERT + " chains to");
  }

  private static void checkValidity(Instant now, X509Certificate c, Path file) {
    if (now.isAfter(c.getNotAfter().toInstant())) {
      throw new CaException(file, "CA certificate " + c.getSubjectX500Principal() + " expired at "
          + c.getNotAfter().toInstant() + "; install a renewed one");
    }
    if (now.isBefore(c.getNotBefore().toInstant())) {
      throw new CaException(file, "CA certificate " + c.getSubjectX500Principal() + " is not valid before "
          + c.getNotBefore().toInstant() + "; check this machine's clock");
    }
  }

  private static List<X509Certificate> rootsFirst(X509Certificate root, List<X509Certificate> roots) {
    List<X509Certificate> out = new ArrayList<>();
    out.add(root);
    roots.stream().filter(r -> !Certificates.sameCertificate(r, root)).forEach(out::add);
    return List.copyOf(out);
  }

  private static boolean isOneOf(X509Certificate c, List<X509Certificate> certs) {
    return certs.stream().anyMatch(r -> Certificates.sameCertificate(r, c));
  }

  private static boolean anyExists(Path dir, String... names) {
    for (String n : names) {
      if (Files.exists(dir.resolve(n))) {
        return true;
      }
    }
    return false;
  }
}
