package weft.security.federation;

import java.net.URI;
import java.util.Objects;

/**
 * A trust domain we federate with, as a {@code TrustDomainFederation} resource (or a MeshConfig
 * {@code caCertificates} entry with {@code spiffeBundleUrl}) declares it: where its bundle is served
 * and how that endpoint proves itself.
 *
 * @param endpointSpiffeId for {@code https_spiffe}: the SPIFFE id the endpoint's certificate must carry
 * @param bootstrap for {@code https_spiffe}: the bundle trusted for the first fetch; null otherwise
 * @param source where it was declared (file and resource), for messages
 */
public record FederatedPeer(String trustDomain, URI bundleEndpointUrl, BundleEndpointProfile profile,
    String endpointSpiffeId, SpiffeBundle bootstrap, String source) {
  public FederatedPeer {
    Objects.requireNonNull(trustDomain, "trustDomain");
    Objects.requireNonNull(bundleEndpointUrl, "bundleEndpointUrl");
    Objects.requireNonNull(profile, "profile");
    Objects.requireNonNull(source, "source");
    if (!"https".equals(bundleEndpointUrl.getScheme())) {
      throw new IllegalArgumentException(source + ": bundleEndpointURL " + bundleEndpointUrl + " is not https");
    }
    if (profile == BundleEndpointProfile.HTTPS_SPIFFE && (endpointSpiffeId == null || bootstrap == null)) {
      throw new IllegalArgumentException(source + ": the https_spiffe profile needs "
          + "bundleEndpointProfile.endpointSPIFFEID and a bootstrap trustDomainBundle");
    }
  }

  /** {@code https_web}: the endpoint shows a Web PKI certificate for its host. */
  public static FederatedPeer httpsWeb(String trustDomain, URI url, String source) {
    return new FederatedPeer(trustDomain, url, BundleEndpointProfile.HTTPS_WEB, null, null, source);
  }
}
