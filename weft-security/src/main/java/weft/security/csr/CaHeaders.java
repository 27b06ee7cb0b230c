package weft.security.csr;

import io.grpc.Metadata;

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
}
