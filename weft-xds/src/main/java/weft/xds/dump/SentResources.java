package weft.xds.dump;

import com.google.protobuf.ByteString;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One type of a proxy's configuration for its dump: the type's version as the stream last sent it,
 * and each resource's bytes by name.
 *
 * @param resourceVersions each resource's own version where the protocol has one (Delta); for State
 *     of the World, resources carry the type's version unless listed here
 * @param pending resources whose current content the stream has not sent yet (the proxy does not
 *     have them, or has an older version)
 * @param acked whether the proxy ACKed the last response of this type
 */
public record SentResources(String typeUrl, String version, SortedMap<String, ByteString> resources,
    Map<String, String> resourceVersions, Set<String> pending, boolean acked) {
  public SentResources {
    resources = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(resources));
    resourceVersions = Map.copyOf(resourceVersions);
    pending = Set.copyOf(pending);
  }

  /** Resources the proxy holds as they are, with no ACK state known. */
  public SentResources(String typeUrl, String version, SortedMap<String, ByteString> resources,
      Map<String, String> resourceVersions) {
    this(typeUrl, version, resources, resourceVersions, Set.of(), false);
  }

  String versionOf(String name) {
    return resourceVersions.getOrDefault(name, version);
  }

  /** Envoy's per-resource status as an xDS client would report it: sent and ACKed, or still to be sent. */
  io.envoyproxy.envoy.admin.v3.ClientResourceStatus statusOf(String name) {
    if (pending.contains(name)) return io.envoyproxy.envoy.admin.v3.ClientResourceStatus.REQUESTED;
    return acked ? io.envoyproxy.envoy.admin.v3.ClientResourceStatus.ACKED
        : io.envoyproxy.envoy.admin.v3.ClientResourceStatus.UNKNOWN;
  }
}
