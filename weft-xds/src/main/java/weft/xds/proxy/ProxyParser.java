package weft.xds.proxy;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.TreeMap;
import weft.model.ClusterIds;
import weft.model.Names;
import weft.registry.Locality;

/**
 * Reads Istio's node identity contract: id {@code sidecar~IP~POD.NS~NS.svc.cluster.local} and
 * metadata CLUSTER_ID, NETWORK, NAMESPACE, LABELS, SERVICE_ACCOUNT, GENERATOR, DNS_CAPTURE, DNS_AUTO_ALLOCATE,
 * REQUESTED_NETWORK_VIEW, MESH_ID, ISTIO_VERSION.
 */
public final class ProxyParser {
  private ProxyParser() {}

  /** Thrown for a node the control plane cannot serve; the message tells the operator what to fix. */
  public static final class InvalidNodeException extends Exception {
    public InvalidNodeException(String message) {
      super(message);
    }
  }

  /** @param defaultClusterId used when the node names no CLUSTER_ID (Istio's default is the local cluster) */
  public static Proxy parse(Node node, String defaultClusterId) throws InvalidNodeException {
    String id = node.getId();
    String[] parts = id.split("~", -1);
    if (parts.length != 4) {
      throw new InvalidNodeException("node id '" + id + "' is not TYPE~IP~POD.NAMESPACE~NAMESPACE.svc.DOMAIN "
          + "(for example sidecar~10.0.0.1~app-1.default~default.svc.cluster.local); fix the bootstrap's node.id");
    }
    String kind = parts[0];
    if (!kind.equals("sidecar") && !kind.equals("router")) {
      throw new InvalidNodeException("node id '" + id + "' has type '" + kind + "'; expected sidecar or router");
    }
    Struct md = node.getMetadata();
    String podDotNs = parts[2];
    int dot = podDotNs.indexOf('.');
    String pod = dot < 0 ? podDotNs : podDotNs.substring(0, dot);
    String namespace = string(md, "NAMESPACE");
    if (namespace.isEmpty() && dot >= 0) namespace = podDotNs.substring(dot + 1);
    if (namespace.isEmpty()) {
      String domain = parts[3];
      int d = domain.indexOf('.');
      namespace = d < 0 ? domain : domain.substring(0, d);
    }
    if (namespace.isEmpty()) {
      throw new InvalidNodeException("node '" + id + "' names no namespace: set metadata NAMESPACE or use POD.NS in the id");
    }
    if (!Names.isDnsLabel(namespace)) {
      // The namespace picks which config the proxy sees and is logged and shown: never take junk.
      throw new InvalidNodeException("node namespace " + Names.quote(namespace) + " (metadata NAMESPACE, else "
          + "POD.NAMESPACE in the node id) is not a valid namespace name: a DNS-1123 label of at most 63 lower-case "
          + "letters, digits and '-'; fix the proxy's bootstrap");
    }
    String clusterId = string(md, "CLUSTER_ID");
    if (!clusterId.isEmpty() && ClusterIds.problem(clusterId) != null) {
      // The id names the proxy's cluster in logs, metrics and config: no newline may forge a line.
      // An empty one means "not set", as before and as in Istio.
      throw new InvalidNodeException("node metadata CLUSTER_ID: " + ClusterIds.problem(clusterId)
          + "; fix the proxy's bootstrap (or leave CLUSTER_ID out to mean this control plane's cluster)");
    }
    Map<String, String> labels = new TreeMap<>();
    Value l = md.getFieldsMap().get("LABELS");
    if (l != null) {
      if (!l.hasStructValue()) {
        throw new InvalidNodeException("node '" + id + "' metadata LABELS must be a map of strings");
      }
      l.getStructValue().getFieldsMap().forEach((k, v) -> labels.put(k, v.getStringValue()));
    }
    var loc = node.getLocality();
    Locality locality = new Locality(loc.getRegion(), loc.getZone(), loc.getSubZone());
    return new Proxy(id, kind, parts[1], pod, namespace, clusterId.isEmpty() ? defaultClusterId : clusterId,
        string(md, "NETWORK"), labels, string(md, "SERVICE_ACCOUNT"), locality,
        "grpc".equals(string(md, "GENERATOR")), parts[3], flag(md, "DNS_CAPTURE") || flag(md, "DNS_AUTO_ALLOCATE"),
        networkView(md), meshId(md), istioVersion(md));
  }

  /** At most this many characters in ISTIO_VERSION (a release like 1.24.2, or a build's longer tag). */
  static final int MAX_ISTIO_VERSION = 128;

  /**
   * ISTIO_VERSION, which EnvoyFilter proxyVersion regexes match: visible ASCII, bounded, or the node is
   * refused (it keys shared patched output and reaches status).
   */
  private static String istioVersion(Struct md) throws InvalidNodeException {
    String v = string(md, "ISTIO_VERSION");
    if (v.length() > MAX_ISTIO_VERSION || v.chars().anyMatch(c -> c < 0x21 || c > 0x7E)) {
      throw new InvalidNodeException("node metadata ISTIO_VERSION " + Names.quote(v.length() > 80 ? v.substring(0, 80)
          + "..." : v) + " is not a version (at most " + MAX_ISTIO_VERSION + " visible ASCII characters); fix the "
          + "proxy's bootstrap");
    }
    return v;
  }

  /** At most this many characters in MESH_ID: a DNS name. */
  static final int MAX_MESH_ID = 253;

  /**
   * MESH_ID, checked: it is shown in status and metrics, so it must be a host-name-like string, never
   * a line breaker or an unbounded blob.
   */
  private static String meshId(Struct md) throws InvalidNodeException {
    String id = string(md, "MESH_ID");
    if (id.isEmpty()) return id;
    if (id.length() > MAX_MESH_ID || !id.matches("[a-z0-9]([a-z0-9.-]*[a-z0-9])?")) {
      throw new InvalidNodeException("node metadata MESH_ID " + weft.model.Names.quote(id.length() > 80
          ? id.substring(0, 80) + "..." : id) + " is not a mesh id (lower-case letters, digits, '.' and '-', at most "
          + MAX_MESH_ID + " characters); fix the proxy's bootstrap (weft agent --mesh-id)");
    }
    return id;
  }

  /** At most this many networks in REQUESTED_NETWORK_VIEW, each at most {@link #MAX_NETWORK_NAME} characters. */
  static final int MAX_NETWORK_VIEW = 64;
  static final int MAX_NETWORK_NAME = 253;

  /**
   * Istio's REQUESTED_NETWORK_VIEW: the networks whose endpoints the proxy wants, as a
   * comma-separated string (what ISTIO_META_* variables give) or a list. It keys shared endpoint
   * assignments, so it is bounded.
   */
  private static List<String> networkView(Struct md) throws InvalidNodeException {
    Value v = md.getFieldsMap().get("REQUESTED_NETWORK_VIEW");
    if (v == null) return List.of();
    List<String> raw = new ArrayList<>();
    if (v.hasListValue()) {
      for (Value item : v.getListValue().getValuesList()) raw.add(item.getStringValue());
    } else {
      raw.addAll(List.of(v.getStringValue().split(",", -1)));
    }
    Set<String> out = new TreeSet<>();
    for (String n : raw) {
      String network = n.trim();
      if (network.isEmpty()) continue;
      if (network.length() > MAX_NETWORK_NAME || network.chars().anyMatch(c -> c < 0x21 || c > 0x7E)) {
        throw new InvalidNodeException("node metadata REQUESTED_NETWORK_VIEW names " + Names.quote(network)
            + ", not a network name (at most " + MAX_NETWORK_NAME + " visible ASCII characters); fix the proxy's bootstrap");
      }
      out.add(network);
    }
    if (out.size() > MAX_NETWORK_VIEW) {
      throw new InvalidNodeException("node metadata REQUESTED_NETWORK_VIEW names " + out.size() + " networks; at most "
          + MAX_NETWORK_VIEW + " are allowed");
    }
    return List.copyOf(out);
  }

  /** Istio's boolean metadata: the string "true" (as ISTIO_META_* variables give it), or a JSON true. */
  private static boolean flag(Struct md, String key) {
    Value v = md.getFieldsMap().get(key);
    if (v == null) return false;
    return v.hasBoolValue() ? v.getBoolValue() : "true".equalsIgnoreCase(v.getStringValue().trim());
  }

  private static String string(Struct md, String key) {
    Value v = md.getFieldsMap().get(key);
    return v == null ? "" : v.getStringValue();
  }
}
