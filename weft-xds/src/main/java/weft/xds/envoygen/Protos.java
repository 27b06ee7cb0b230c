package weft.xds.envoygen;

import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.Message;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.type.v3.FractionalPercent;

/** Small proto builders every Envoy generator here needs, built the way Istio builds them. */
final class Protos {
  private Protos() {}

  static final Duration ZERO = Duration.getDefaultInstance();

  /**
   * "Fetch this over the same ADS stream". Istio sets initial_fetch_timeout 0 so that Envoy waits for
   * a dependent resource rather than warming with nothing after 15 s.
   */
  static ConfigSource ads() {
    return ConfigSource.newBuilder()
        .setAds(AggregatedConfigSource.getDefaultInstance())
        .setInitialFetchTimeout(ZERO)
        .setResourceApiVersion(ApiVersion.V3)
        .build();
  }

  static Duration duration(java.time.Duration d) {
    return Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
  }

  static UInt32Value u32(long v) {
    return UInt32Value.of((int) Math.min(v, 0xFFFF_FFFFL));
  }

  /** Istio percentages are 0–100 with decimals; Envoy's finest fixed denominator is a million. */
  static FractionalPercent percent(Double percentage) {
    double p = percentage == null ? 100.0 : percentage;
    return FractionalPercent.newBuilder()
        .setNumerator((int) Math.round(p * 10_000))
        .setDenominator(FractionalPercent.DenominatorType.MILLION)
        .build();
  }

  static Address address(String ip, int port) {
    return Address.newBuilder()
        .setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port))
        .build();
  }

  static Filter filter(String name, Message config) {
    return Filter.newBuilder().setName(name).setTypedConfig(Any.pack(config)).build();
  }

  static ListenerFilter listenerFilter(String name, Message config) {
    return ListenerFilter.newBuilder().setName(name).setTypedConfig(Any.pack(config)).build();
  }

  /** A tcp_proxy to one cluster; Istio uses the cluster name as the stat prefix. */
  static Filter tcpProxy(String cluster) {
    return filter(WellKnown.TCP_PROXY, TcpProxy.newBuilder().setStatPrefix(cluster).setCluster(cluster).build());
  }
}
