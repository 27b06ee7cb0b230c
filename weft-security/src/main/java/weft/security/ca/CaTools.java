package weft.security.ca;

import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;

/**
 * What {@code weft ca init-root} and {@code weft ca intermediate} do: a root kept offline, and one
 * intermediate per cluster in Istio's plugged-in layout, so that several control planes share a root.
 */
public final class CaTools {
  // Istio's tools/certs make intermediates for two years (INTERMEDIATE_DAYS ?= 730).
  static final Duration INTERMEDIATE_TTL = Duration.ofDays(730);

  private CaTools() {}

  /** Writes {@code root-cert.pem} and {@code root-key.pem} into {@code out}. */
  public static List<Path> initRoot(Path out, String trustDomain) {
    return initRoot(out, trustDomain, Clock.systemUTC());
  }

  public static List<Path> initRoot(Path out, String trustDomain, Clock clock) {
    CaFiles.requireAbsent(out, List.of(CaFiles.ROOT_CERT, CaFiles.ROOT_KEY),
        "a root is never overwritten; use another --out folder for a new one");
    Instant now = clock.instant();
    KeyPair keys = Certificates.newKeyPair();
    X509Certificate root = Certificates.root(keys, CaStore.rootSubject(trustDomain), now, now.plus(CaStore.ROOT_TTL));
    Path key = out.resolve(CaFiles.ROOT_KEY);
    Path cert = out.resolve(CaFiles.ROOT_CERT);
    CaFiles.writeNew(key, Pem.encodePrivateKey(keys.getPrivate()), true);
    CaFiles.writeNew(cert, Pem.encode(root), false);
    return List.of(cert, key);
  }

  /**
   * Makes an intermediate CA for {@code clusterId}, signed by the root in {@code rootDir}, and writes
   * Istio's four plugged-in files into {@code out}: {@code ca-cert.pem}, {@code ca-key.pem},
   * {@code cert-chain.pem} (the intermediate then the root) and {@code root-cert.pem}.
   */
  public static List<Path> intermediate(Path rootDir, String clusterId, Path out) {
    return intermediate(rootDir, clusterId, out, Clock.systemUTC());
  }

  public static List<Path> intermediate(Path rootDir, String clusterId, Path out, Clock clock) {
    if (clusterId == null || clusterId.isBlank()) {
      throw new IllegalArgumentException("a cluster id is needed to name the intermediate CA");
    }
    Path rootCertFile = rootDir.resolve(CaFiles.ROOT_CERT);
    Path rootKeyFile = rootDir.resolve(CaFiles.ROOT_KEY);
    X509Certificate root = Pem.readCertificates(rootCertFile).get(0);
    PrivateKey rootKey = Pem.readPrivateKey(rootKeyFile);
    CaStore.requireCa(rootCertFile, root);
    CaStore.requireKeyMatches(rootKeyFile, rootKey, rootCertFile, root);
    List<String> names = List.of(CaFiles.CA_CERT, CaFiles.CA_KEY, CaFiles.CERT_CHAIN, CaFiles.ROOT_CERT);
    CaFiles.requireAbsent(out, names, "an intermediate is made once per directory; use another --out");

    Instant now = clock.instant();
    Instant rootEnd = root.getNotAfter().toInstant();
    if (!now.isBefore(rootEnd)) {
      throw new CaException(rootCertFile, "the root expired at " + rootEnd + "; it cannot sign intermediates");
    }
    Instant notAfter = now.plus(INTERMEDIATE_TTL).isAfter(rootEnd) ? rootEnd : now.plus(INTERMEDIATE_TTL);
    KeyPair keys = Certificates.newKeyPair();
    X509Certificate ca = Certificates.intermediate(keys.getPublic(), intermediateSubject(clusterId), root, rootKey,
        now, notAfter);

    Path caCert = out.resolve(CaFiles.CA_CERT);
    Path caKey = out.resolve(CaFiles.CA_KEY);
    Path chain = out.resolve(CaFiles.CERT_CHAIN);
    Path rootCert = out.resolve(CaFiles.ROOT_CERT);
    CaFiles.writeNew(caKey, Pem.encodePrivateKey(keys.getPrivate()), true);
    CaFiles.writeNew(caCert, Pem.encode(ca), false);
    CaFiles.writeNew(chain, Pem.encode(List.of(ca, root)), false);
    CaFiles.writeNew(rootCert, Pem.encode(root), false);
    return List.of(caCert, caKey, chain, rootCert);
  }

  private static X500Name intermediateSubject(String clusterId) {
    // Istio's tools/certs name an intermediate by its cluster in L.
    return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "Weft").addRDN(BCStyle.CN, "Intermediate CA")
        .addRDN(BCStyle.L, clusterId).build();
  }
}
