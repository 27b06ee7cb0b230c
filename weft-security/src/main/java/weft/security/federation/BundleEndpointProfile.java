package weft.security.federation;

import java.util.Locale;

/**
 * How a bundle endpoint proves itself (SPIFFE Federation spec): {@code https_web} with a Web PKI
 * certificate for its host name, {@code https_spiffe} with an X.509-SVID of the endpoint's SPIFFE id,
 * checked against the last bundle of that trust domain.
 */
public enum BundleEndpointProfile {
  HTTPS_WEB("https_web"),
  HTTPS_SPIFFE("https_spiffe");

  private final String wireName;

  BundleEndpointProfile(String wireName) {
    this.wireName = wireName;
  }

  public String wireName() {
    return wireName;
  }

  /** {@code https_web} or {@code https_spiffe} (SPIRE's spelling); also accepts the dash forms. */
  public static BundleEndpointProfile parse(String s) {
    String n = s == null ? "" : s.toLowerCase(Locale.ROOT).replace('-', '_');
    for (BundleEndpointProfile p : values()) {
      if (p.wireName.equals(n)) return p;
    }
    throw new IllegalArgumentException("bundle endpoint profile '" + s + "' is not https_web or https_spiffe");
  }
}
