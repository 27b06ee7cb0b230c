package weft.xds.dump;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.TypeRegistry;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.admin.v3.ClustersConfigDump;
import io.envoyproxy.envoy.admin.v3.ConfigDump;
import io.envoyproxy.envoy.admin.v3.EndpointsConfigDump;
import io.envoyproxy.envoy.admin.v3.ListenersConfigDump;
import io.envoyproxy.envoy.admin.v3.RoutesConfigDump;
import io.envoyproxy.envoy.admin.v3.SecretsConfigDump;
import java.util.List;
import java.util.Map;
import weft.xds.TypeUrls;

/**
 * A proxy's configuration, in the shape of Envoy's {@code /config_dump} (what {@code istioctl
 * proxy-config all -o json} prints): one {@code envoy.admin.v3.*ConfigDump} per type, resources
 * with their versions and, per resource, whether the proxy has it yet ({@code client_status}
 * {@code REQUESTED} while its current content is still to be sent). Every resource passes through {@link Redaction} first, so private keys and
 * other secrets never leave the control plane.
 */
public final class ConfigDumps {
  /** SDS: the credentialName Secrets a proxy was sent; their private keys are redacted like every key. */
  public static final String SECRET = TypeUrls.SECRET;
  /** The order Envoy prints them in. */
  public static final List<String> ALL_TYPES =
      List.of(TypeUrls.CLUSTER, TypeUrls.ENDPOINT, TypeUrls.LISTENER, TypeUrls.ROUTE, SECRET);
  /** The names {@code weft proxy-config} uses for each type. */
  public static final Map<String, String> TYPE_NAMES = Map.of("clusters", TypeUrls.CLUSTER,
      "endpoints", TypeUrls.ENDPOINT, "listeners", TypeUrls.LISTENER, "routes", TypeUrls.ROUTE, "secrets", SECRET);

  /**
   * Every message type Weft's generators put in a resource or an {@code Any} inside one; adding a
   * type's descriptor brings its whole file and the files it imports.
   */
  static final TypeRegistry TYPES = TypeRegistry.newBuilder()
      .add(ConfigDump.getDescriptor())
      .add(io.envoyproxy.envoy.config.cluster.v3.Cluster.getDescriptor())
      .add(io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment.getDescriptor())
      .add(io.envoyproxy.envoy.config.listener.v3.Listener.getDescriptor())
      .add(io.envoyproxy.envoy.config.route.v3.RouteConfiguration.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          .getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.http.router.v3.Router.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.http.grpc_web.v3.GrpcWeb.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.listener.http_inspector.v3.HttpInspector.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.getDescriptor())
      .add(io.envoyproxy.envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate.getDescriptor())
      .add(com.google.protobuf.Value.getDescriptor())
      .build();

  private static final Redaction REDACTION = new Redaction(TYPES);
  private static final JsonFormat.Printer JSON = JsonFormat.printer().usingTypeRegistry(TYPES)
      .preservingProtoFieldNames();

  private ConfigDumps() {}

  /** The config dump of the given types (in {@link #ALL_TYPES} order); a type the proxy does not watch is empty. */
  public static ConfigDump dump(List<SentResources> sent, List<String> typeUrls) {
    ConfigDump.Builder out = ConfigDump.newBuilder();
    for (String type : ALL_TYPES) {
      if (!typeUrls.contains(type)) continue;
      SentResources s = sent.stream().filter(x -> x.typeUrl().equals(type)).findFirst()
          .orElse(new SentResources(type, "", new java.util.TreeMap<>(), Map.of()));
      out.addConfigs(Any.pack(section(s)));
    }
    return out.build();
  }

  /** {@link #dump} as JSON with Envoy's field names. */
  public static String json(List<SentResources> sent, List<String> typeUrls) {
    try {
      return JSON.print(dump(sent, typeUrls));
    } catch (InvalidProtocolBufferException e) {
      // Every Any inside was rebuilt by Redaction from TYPES, so the printer knows them all.
      throw new IllegalStateException("config dump could not be printed", e);
    }
  }

  private static Message section(SentResources s) {
    switch (s.typeUrl()) {
      case TypeUrls.CLUSTER -> {
        ClustersConfigDump.Builder b = ClustersConfigDump.newBuilder().setVersionInfo(s.version());
        s.resources().forEach((name, bytes) -> b.addDynamicActiveClusters(ClustersConfigDump.DynamicCluster.newBuilder()
            .setVersionInfo(s.versionOf(name)).setClientStatus(s.statusOf(name)).setCluster(REDACTION.redactedAny(s.typeUrl(), bytes))));
        return b.build();
      }
      case TypeUrls.ENDPOINT -> {
        EndpointsConfigDump.Builder b = EndpointsConfigDump.newBuilder();
        s.resources().forEach((name, bytes) -> b.addDynamicEndpointConfigs(EndpointsConfigDump.DynamicEndpointConfig
            .newBuilder().setVersionInfo(s.versionOf(name)).setClientStatus(s.statusOf(name)).setEndpointConfig(REDACTION.redactedAny(s.typeUrl(), bytes))));
        return b.build();
      }
      case TypeUrls.LISTENER -> {
        ListenersConfigDump.Builder b = ListenersConfigDump.newBuilder().setVersionInfo(s.version());
        s.resources().forEach((name, bytes) -> b.addDynamicListeners(ListenersConfigDump.DynamicListener.newBuilder()
            .setName(name).setClientStatus(s.statusOf(name)).setActiveState(ListenersConfigDump.DynamicListenerState.newBuilder()
                .setVersionInfo(s.versionOf(name)).setListener(REDACTION.redactedAny(s.typeUrl(), bytes)))));
        return b.build();
      }
      case TypeUrls.ROUTE -> {
        RoutesConfigDump.Builder b = RoutesConfigDump.newBuilder();
        s.resources().forEach((name, bytes) -> b.addDynamicRouteConfigs(RoutesConfigDump.DynamicRouteConfig.newBuilder()
            .setVersionInfo(s.versionOf(name)).setClientStatus(s.statusOf(name)).setRouteConfig(REDACTION.redactedAny(s.typeUrl(), bytes))));
        return b.build();
      }
      case SECRET -> {
        SecretsConfigDump.Builder b = SecretsConfigDump.newBuilder();
        s.resources().forEach((name, bytes) -> b.addDynamicActiveSecrets(SecretsConfigDump.DynamicSecret.newBuilder()
            .setName(name).setVersionInfo(s.versionOf(name)).setClientStatus(s.statusOf(name)).setSecret(REDACTION.redactedAny(s.typeUrl(), bytes))));
        return b.build();
      }
      default -> throw new IllegalArgumentException("no config dump section for " + s.typeUrl());
    }
  }
}
