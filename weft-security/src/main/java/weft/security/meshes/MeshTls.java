package weft.security.meshes;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * TLS between federated control planes, both ways {@code https_spiffe}: each side presents an
 * X.509-SVID from its own CA and checks the other's against the other trust domain's roots only
 * (from its federated bundle), by SPIFFE id, never by host name.
 */
public final class MeshTls {
  private MeshTls() {}

  /** The URI SAN of an X.509-SVID (exactly one, by the X.509-SVID spec), or null. */
  public static String spiffeId(X509Certificate leaf) {
    try {
      Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
      List<String> uris = sans == null ? List.of() : sans.stream().filter(s -> Integer.valueOf(6).equals(s.get(0)))
          .map(s -> String.valueOf(s.get(1))).toList();
      return uris.size() == 1 && uris.get(0).startsWith("spiffe://") ? uris.get(0) : null;
    } catch (CertificateParsingException e) {
      return null;
    }
  }

  /** The trust domain of a SPIFFE id, or null. */
  public static String trustDomainOf(String spiffeId) {
    if (spiffeId == null || !spiffeId.startsWith("spiffe://")) return null;
    String rest = spiffeId.substring("spiffe://".length());
    int slash = rest.indexOf('/');
    return slash <= 0 ? null : rest.substring(0, slash);
  }

  /**
   * The importer's side: presents {@code ours}; trusts exactly a chain to {@code peerRoots} whose leaf
   * is {@code endpointId}.
   */
  public static SSLContext client(KeyManager ours, List<X509Certificate> peerRoots, String endpointId) {
    return context(ours, new Verifier(td -> peerRoots, endpointId, Side.SERVER));
  }

  /**
   * The exporter's side: presents {@code ours}; a client certificate, when sent, must chain to the
   * roots {@code rootsByTrustDomain} gives for the trust domain in its own SPIFFE id (null: not a
   * federated domain, refused). The handshake does not require one: bundle fetches send none.
   */
  public static SSLContext server(KeyManager ours, Function<String, List<X509Certificate>> rootsByTrustDomain) {
    return context(ours, new Verifier(rootsByTrustDomain, null, Side.CLIENT));
  }

  private static SSLContext context(KeyManager km, TrustManager tm) {
    try {
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(km == null ? null : new KeyManager[] {km}, new TrustManager[] {tm}, null);
      return ctx;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  private enum Side { SERVER, CLIENT }

  /**
   * Extended, so that the JDK does not add a host name check: the SPIFFE id is the name. Checks only
   * the side it was made for and refuses the other.
   */
  static final class Verifier extends X509ExtendedTrustManager {
    private final Function<String, List<X509Certificate>> roots;
    private final String expectedId;
    private final Side side;

    Verifier(Function<String, List<X509Certificate>> roots, String expectedId, Side side) {
      this.roots = roots;
      this.expectedId = expectedId;
      this.side = side;
    }

    void check(X509Certificate[] chain, Side who) throws CertificateException {
      if (who != side) throw new CertificateException("this context checks " + side + " certificates only");
      if (chain == null || chain.length == 0) throw new CertificateException("no certificate was sent");
      String id = spiffeId(chain[0]);
      if (id == null) throw new CertificateException("the certificate " + chain[0].getSubjectX500Principal()
          + " carries no single spiffe:// URI SAN");
      if (expectedId != null && !expectedId.equals(id)) {
        throw new CertificateException("the certificate names " + id + ", expected " + expectedId);
      }
      String td = trustDomainOf(id);
      List<X509Certificate> anchors = td == null ? null : roots.apply(td);
      if (anchors == null || anchors.isEmpty()) {
        throw new CertificateException("trust domain " + td + " is not federated with this mesh (no roots for it)");
      }
      Set<TrustAnchor> set = new HashSet<>();
      anchors.forEach(r -> set.add(new TrustAnchor(r, null)));
      try {
        PKIXParameters params = new PKIXParameters(set);
        params.setRevocationEnabled(false);
        CertPathValidator.getInstance("PKIX").validate(
            CertificateFactory.getInstance("X.509").generateCertPath(Arrays.asList(chain)), params);
      } catch (GeneralSecurityException e) {
        throw new CertificateException("the certificate of " + id + " does not chain to the roots of " + td + ": "
            + e.getMessage(), e);
      }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      check(chain, Side.SERVER);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      check(chain, Side.SERVER);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      check(chain, Side.SERVER);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      check(chain, Side.CLIENT);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      check(chain, Side.CLIENT);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      check(chain, Side.CLIENT);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      // No list of CA names in the request: a client of any federated domain sends its SVID.
      return new X509Certificate[0];
    }
  }

  /** For callers holding roots that change: a function reading the current ones each handshake. */
  public static Function<String, List<X509Certificate>> current(Supplier<java.util.Map<String, List<X509Certificate>>> byDomain) {
    return td -> byDomain.get().get(td);
  }
}
