package weft.security.csr;

import io.grpc.Metadata;
import java.util.Locale;
import weft.security.auth.AuthenticationException;

/** The request headers of Istio's CSR API, as Istio's agent sends them. */
public final class CaHeaders {
  /** {@code authorization: Bearer TOKEN}: the caller's ServiceAccount (or file-mode) token. */
  public static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  /**
   * The caller's cluster. Istio's agent sends {@code ClusterID}; gRPC header names are lower case on
   * the wire, and istiod reads {@code clusterid}.
   */
  public static final Metadata.Key<String> CLUSTER_ID = Metadata.Key.of("ClusterID", Metadata.ASCII_STRING_MARSHALLER);
  /** RFC 6750's scheme; matched without regard to case. */
  public static final String BEARER = "Bearer ";

  private CaHeaders() {}

  /** The token of the {@code authorization: Bearer TOKEN} header; why not, when it is missing or malformed. */
  public static String bearerToken(Metadata headers) throws AuthenticationException {
    String value = headers.get(AUTHORIZATION);
    if (value == null) {
      throw new AuthenticationException("no 'authorization: Bearer TOKEN' header");
    }
    String prefix = BEARER.toLowerCase(Locale.ROOT);
    if (!value.toLowerCase(Locale.ROOT).startsWith(prefix) || value.length() == prefix.length()) {
      throw new AuthenticationException("the 'authorization' header is not 'Bearer TOKEN'");
    }
    return value.substring(prefix.length()).trim();
  }
}
