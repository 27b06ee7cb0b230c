package weft.model;

import java.util.List;
import java.util.Map;

/**
 * A {@code networking.istio.io/v1alpha3} EnvoyFilter: patches to the Envoy configuration generated for
 * the workloads it selects. The patch values stay Envoy-proto JSON text here (the model does not know
 * Envoy's types); weft-xds turns them into typed protos and applies them in Istio's order.
 *
 * @param selector {@code workloadSelector.labels}, or null for every workload of the namespace (the
 *     whole mesh, in the root namespace)
 * @param targetRefs {@code Kind/name} entries; Istio applies such filters to waypoints only
 * @param priority lower first; negative before the default 0
 * @param createdEpochSecond {@code metadata.creationTimestamp} in seconds, 0 when absent (sorts first,
 *     as Istio's zero time does)
 */
public record EnvoyFilter(ResourceId id, Map<String, String> selector, List<String> targetRefs, int priority,
    long createdEpochSecond, List<Patch> patches) implements Resource {
  public EnvoyFilter {
    selector = selector == null ? null : Map.copyOf(selector);
    targetRefs = List.copyOf(targetRefs);
    patches = List.copyOf(patches);
  }

  /**
   * One {@code configPatches} entry.
   *
   * @param index its position in {@code configPatches}, for messages
   * @param applyTo Istio's ApplyTo name (LISTENER, HTTP_FILTER, ...)
   * @param operation Istio's Patch.Operation name (MERGE, ADD, ...)
   * @param valueJson the patch value as JSON text, or null when none was given
   * @param filterClass Patch.FilterClass name (UNSPECIFIED, AUTHN, AUTHZ, STATS)
   */
  public record Patch(int index, String applyTo, Match match, String operation, String valueJson,
      String filterClass) {}

  /** {@code match}: every part set must hold. {@code context} ANY, SIDECAR_INBOUND, SIDECAR_OUTBOUND or GATEWAY. */
  public record Match(String context, String proxyVersion, Map<String, String> proxyMetadata, ListenerMatch listener,
      RouteMatch routeConfiguration, ClusterMatch cluster) {
    public Match {
      proxyMetadata = Map.copyOf(proxyMetadata);
    }

    public static final Match ANY = new Match("ANY", null, Map.of(), null, null, null);
  }

  /** {@code match.listener}; a 0 port or a null string matches anything. */
  public record ListenerMatch(int portNumber, String name, ChainMatch filterChain, String listenerFilter) {}

  /** {@code match.listener.filterChain}. */
  public record ChainMatch(String name, String sni, String transportProtocol, String applicationProtocols,
      int destinationPort, String filter, String subFilter) {}

  /** {@code match.routeConfiguration}; {@code vhost} and {@code route} parts null when not matched on. */
  public record RouteMatch(int portNumber, String portName, String gateway, String name, String vhostName,
      String vhostDomain, String routeName, String routeAction) {}

  /** {@code match.cluster}. */
  public record ClusterMatch(int portNumber, String service, String subset, String name) {}
}
