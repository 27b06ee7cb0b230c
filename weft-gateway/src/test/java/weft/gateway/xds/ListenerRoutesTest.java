package weft.gateway.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import java.util.List;
import org.junit.jupiter.api.Test;

class ListenerRoutesTest {
  static final String SNI = "outbound_.9080_._.reviews.default.svc.cluster.local";
  static final String CLUSTER = "outbound|9080||reviews.default.svc.cluster.local";

  static FilterChain.Builder sniChain(String sni, String cluster) {
    return FilterChain.newBuilder().setFilterChainMatch(FilterChainMatch.newBuilder().addServerNames(sni))
        .addFilters(Filter.newBuilder().setName(ListenerRoutes.TCP_PROXY)
            .setTypedConfig(Any.pack(TcpProxy.newBuilder().setStatPrefix(cluster).setCluster(cluster).build())));
  }

  static Listener listener(int port, FilterChain.Builder... chains) {
    Listener.Builder l = Listener.newBuilder().setName("0.0.0.0_" + port).setAddress(Address.newBuilder()
        .setSocketAddress(SocketAddress.newBuilder().setAddress("0.0.0.0").setPortValue(port)));
    for (FilterChain.Builder c : chains) l.addFilterChains(c);
    return l.build();
  }

  @Test
  void sniChainsBecomeServerNameToCluster() throws Exception {
    Listener l = listener(15443, sniChain(SNI, CLUSTER), sniChain("outbound_.9080_.v1_.reviews.default.svc.cluster.local",
        "outbound|9080|v1|reviews.default.svc.cluster.local"));
    assertThat(ListenerRoutes.routes(l)).containsEntry(SNI, CLUSTER).hasSize(2);
  }

  @Test
  void theListenerOnTheGatewaysPortIsChosenAndOthersIgnored() throws Exception {
    List<Any> resources = List.of(Any.pack(listener(8080, sniChain("x", "y"))), Any.pack(listener(15443, sniChain(SNI, CLUSTER))));
    assertThat(ListenerRoutes.find(resources, 15443).getName()).isEqualTo("0.0.0.0_15443");
    assertThat(ListenerRoutes.find(resources, 15012)).isNull();
  }

  @Test
  void chainThatTerminatesTlsIsRefusedWithTheReason() {
    Listener l = listener(15443, sniChain(SNI, CLUSTER).setTransportSocket(TransportSocket.newBuilder().setName("tls")));
    assertThatThrownBy(() -> ListenerRoutes.routes(l)).isInstanceOf(InvalidResourceException.class)
        .hasMessageContaining("listener 0.0.0.0_15443 filter_chains[0]").hasMessageContaining(SNI)
        .hasMessageContaining("never terminates");
  }

  @Test
  void httpChainIsRefusedWithTheReason() {
    FilterChain.Builder http = FilterChain.newBuilder()
        .setFilterChainMatch(FilterChainMatch.newBuilder().addServerNames("bookinfo.example.com"))
        .addFilters(Filter.newBuilder().setName("envoy.filters.network.http_connection_manager")
            .setTypedConfig(Any.pack(HttpConnectionManager.getDefaultInstance())));
    assertThatThrownBy(() -> ListenerRoutes.routes(listener(15443, sniChain(SNI, CLUSTER), http)))
        .hasMessageContaining("filter_chains[1]").hasMessageContaining("is not a tcp_proxy");
  }

  @Test
  void catchAllChainAndWeightedClustersAreRefused() {
    FilterChain.Builder catchAll = sniChain(SNI, CLUSTER).clearFilterChainMatch();
    assertThatThrownBy(() -> ListenerRoutes.routes(listener(15443, catchAll))).hasMessageContaining("no server_names");
    FilterChain.Builder weighted = FilterChain.newBuilder()
        .setFilterChainMatch(FilterChainMatch.newBuilder().addServerNames(SNI))
        .addFilters(Filter.newBuilder().setName(ListenerRoutes.TCP_PROXY).setTypedConfig(Any.pack(TcpProxy.newBuilder()
            .setWeightedClusters(TcpProxy.WeightedCluster.newBuilder().addClusters(
                TcpProxy.WeightedCluster.ClusterWeight.newBuilder().setName(CLUSTER).setWeight(1))).build())));
    assertThatThrownBy(() -> ListenerRoutes.routes(listener(15443, weighted))).hasMessageContaining("weighted_clusters");
  }
}
