package weft.xds;

import java.util.List;

/** The xDS resource types Weft serves, in the order Envoy wants them pushed (clusters before listeners). */
public final class TypeUrls {
  private TypeUrls() {}

  public static final String CLUSTER = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  public static final String ENDPOINT = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
  public static final String LISTENER = "type.googleapis.com/envoy.config.listener.v3.Listener";
  public static final String ROUTE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";

  public static final List<String> PUSH_ORDER = List.of(CLUSTER, ENDPOINT, LISTENER, ROUTE);

  /** In State of the World, a listener or cluster missing from a response is deleted; routes and endpoints are not. */
  public static boolean isFullState(String typeUrl) {
    return typeUrl.equals(LISTENER) || typeUrl.equals(CLUSTER);
  }

  public static String shortName(String typeUrl) {
    return switch (typeUrl) {
      case CLUSTER -> "CDS";
      case ENDPOINT -> "EDS";
      case LISTENER -> "LDS";
      case ROUTE -> "RDS";
      default -> typeUrl.substring(typeUrl.lastIndexOf('.') + 1);
    };
  }
}
