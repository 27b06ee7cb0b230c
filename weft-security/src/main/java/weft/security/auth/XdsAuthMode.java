package weft.security.auth;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What the secure port ({@code --xds-auth}) requires of an xDS client before it is served: a
 * workload certificate from the mesh CA, a bearer token (checked as the CSR API checks it), either,
 * or nothing (the behaviour before proxies had to prove who they are; for migration only).
 */
public enum XdsAuthMode {
  CERTIFICATE,
  TOKEN,
  ANY,
  NONE;

  /** The flag's spelling. */
  public String flagValue() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * @throws IllegalArgumentException naming the accepted values
   */
  public static XdsAuthMode parse(String value) {
    for (XdsAuthMode m : values()) {
      if (m.flagValue().equals(value)) return m;
    }
    throw new IllegalArgumentException("--xds-auth '" + value + "' is not one of "
        + Arrays.stream(values()).map(XdsAuthMode::flagValue).collect(Collectors.joining(", ")));
  }

  boolean acceptsCertificate() {
    return this == CERTIFICATE || this == ANY;
  }

  boolean acceptsToken() {
    return this == TOKEN || this == ANY;
  }
}
