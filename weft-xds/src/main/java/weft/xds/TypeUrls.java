package weft.xds;

import java.util.List;

/** The xDS resource types Weft serves, in the order Envoy wants them pushed (clusters before listeners). */
public final class TypeUrls {
  private TypeUrls() {}

  public static final String CLUSTER = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  public static final String ENDPOINT = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
  public static final String LISTENER = "type.googleapis.com/envoy.config.listener.v3.Listener";
  public static final String ROUTE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
  /**
   * SDS: Kubernetes Secrets named by credentialName ({@code kubernetes://NAME}), sent only to a
   * proxy that proved its identity on the secure port, and only its own namespace's.
   */
  public static final String SECRET = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";
  /** Istio's name table (NDS), for proxies that proxy DNS. */
  public static final String NAME_TABLE = "type.googleapis.com/istio.networking.nds.v1.NameTable";

  /**
   * Istio's order, secrets after routes (a cluster or listener waits, warming, for the secrets it
   * names); the name table last: a DNS answer should not name an address the proxy has no listener
   * for yet.
   */
  public static final List<String> PUSH_ORDER = List.of(CLUSTER, ENDPOINT, LISTENER, ROUTE, SECRET, NAME_TABLE);

  /**
   * In State of the World, a listener or cluster missing from a response is deleted; routes and
   * endpoints are not. The name table is one resource that every response carries whole, and like
   * listeners and clusters a request naming nothing asks for it (Istio's agents name nothing).
   */
  public static boolean isFullState(String typeUrl) {
    return typeUrl.equals(LISTENER) || typeUrl.equals(CLUSTER) || typeUrl.equals(NAME_TABLE);
  }

  public static String shortName(String typeUrl) {
    return switch (typeUrl) {
      case CLUSTER -> "CDS";
      case ENDPOINT -> "EDS";
      case LISTENER -> "LDS";
      case ROUTE -> "RDS";
      case NAME_TABLE -> "NDS";
      case SECRET -> "SDS";
      default -> typeUrl.substring(typeUrl.lastIndexOf('.') + 1);
    };
  }
}
