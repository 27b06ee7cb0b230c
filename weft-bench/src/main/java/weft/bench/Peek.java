package weft.bench;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a sidecar needs to read from resources to know what to ask for next, read without parsing
 * whole resources where that is cheap: a thousand streams each get a thousand clusters, and the
 * harness shares the control plane's two cores, so its own parsing must stay small.
 */
final class Peek {
  private Peek() {}

  /** Field 1, a string: the name of a Cluster, Listener, RouteConfiguration and ClusterLoadAssignment alike. */
  static String name(ByteString message) {
    try {
      CodedInputStream in = message.newCodedInput();
      for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
        if (WireFormat.getTagFieldNumber(tag) == 1 && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
          return in.readStringRequireUtf8();
        }
        in.skipField(tag);
      }
      return "";
    } catch (IOException e) {
      throw new IllegalStateException("malformed resource: " + e.getMessage(), e);
    }
  }

  /**
   * The name Envoy asks EDS for on behalf of a cluster: {@code eds_cluster_config.service_name},
   * else the cluster's name; {@code ""} for a cluster that is not of type EDS.
   */
  static String edsServiceName(ByteString cluster) {
    try {
      CodedInputStream in = cluster.newCodedInput();
      String name = "";
      String serviceName = "";
      boolean eds = false;
      for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
        switch (WireFormat.getTagFieldNumber(tag)) {
          case Cluster.NAME_FIELD_NUMBER -> name = in.readStringRequireUtf8();
          case Cluster.TYPE_FIELD_NUMBER -> eds = in.readEnum() == Cluster.DiscoveryType.EDS_VALUE;
          case Cluster.EDS_CLUSTER_CONFIG_FIELD_NUMBER -> serviceName = stringField(in.readBytes(),
              Cluster.EdsClusterConfig.SERVICE_NAME_FIELD_NUMBER);
          default -> in.skipField(tag);
        }
      }
      if (!eds) return "";
      return serviceName.isEmpty() ? name : serviceName;
    } catch (IOException e) {
      throw new IllegalStateException("malformed cluster: " + e.getMessage(), e);
    }
  }

  /** A message's string field, read without building the message; "" when absent. */
  private static String stringField(ByteString message, int fieldNumber) throws IOException {
    CodedInputStream in = message.newCodedInput();
    String value = "";
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      if (WireFormat.getTagFieldNumber(tag) == fieldNumber && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
        value = in.readStringRequireUtf8();
      } else {
        in.skipField(tag);
      }
    }
    return value;
  }

  /** The route configurations a listener's HTTP connection managers fetch over RDS. */
  static Set<String> routeNames(ByteString listenerBytes) {
    Set<String> out = new TreeSet<>();
    try {
      Listener listener = Listener.parseFrom(listenerBytes);
      List<FilterChain> chains = new ArrayList<>(listener.getFilterChainsList());
      if (listener.hasDefaultFilterChain()) chains.add(listener.getDefaultFilterChain());
      for (FilterChain chain : chains) {
        for (Filter f : chain.getFiltersList()) {
          if (!f.getTypedConfig().is(HttpConnectionManager.class)) continue;
          HttpConnectionManager hcm = f.getTypedConfig().unpack(HttpConnectionManager.class);
          if (hcm.hasRds()) out.add(hcm.getRds().getRouteConfigName());
        }
      }
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("malformed listener: " + e.getMessage(), e);
    }
    return out;
  }
}
