package weft.xds.authn;

/**
 * Where the generators get an issuer's keys from: the control plane's cache of fetched key sets
 * ({@link JwksFetcher}). A lookup never blocks a push: keys not fetched yet are {@link Keys#unavailable}.
 */
@FunctionalInterface
public interface JwksSource {
  /** No fetcher (tools, tests without one): keys given by URL are never known. */
  JwksSource NONE = location -> Keys.unavailable("this control plane fetches no key sets");

  /** The keys at {@code location}: a {@code jwksUri}, or an issuer whose keys OpenID discovery finds. */
  Keys keys(KeyLocation location);

  /** Where one rule's keys are: its {@code jwksUri}, or (with {@code discover}) the issuer's discovery document. */
  record KeyLocation(String uri, boolean discover) {
    public static KeyLocation of(weft.model.RequestAuthentication.JwtRule rule) {
      return rule.jwksUri() != null ? new KeyLocation(rule.jwksUri(), false) : new KeyLocation(rule.issuer(), true);
    }
  }

  /**
   * A key set as last fetched ({@code jwks}, checked), or none with the reason. {@code problem} may also be
   * set beside keys: the last refresh failed and the last good keys are kept.
   */
  record Keys(String jwks, String problem) {
    public static Keys unavailable(String problem) {
      return new Keys(null, problem);
    }
  }
}
