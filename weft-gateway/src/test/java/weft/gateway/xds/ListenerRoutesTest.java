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
import weft.gateway.route.ClusterWeight;

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
    assertThat(ListenerRoutes.routes(l).byName()).containsEntry(SNI, List.of(new ClusterWeight(CLUSTER, 1))).hasSize(2);
    assertThat(ListenerRoutes.routes(l).anyName()).isEmpty();
  }

  @Test
  void everyListenerIsReadByItsPortAndTwoOnOnePortAreRefused() throws Exception {
    List<Any> resources = List.of(Any.pack(listener(15012, sniChain("x", "y"))), Any.pack(listener(15443, sniChain(SNI, CLUSTER))));
    assertThat(ListenerRoutes.all(resources)).containsOnlyKeys(15012, 15443);
    assertThat(ListenerRoutes.all(resources).get(15012).clusters()).containsExactly("y");
    List<Any> twice = List.of(Any.pack(listener(15012, sniChain("x", "y"))), Any.pack(listener(15012, sniChain(SNI, CLUSTER))
        .toBuilder().setName("other").build()));
    assertThatThrownBy(() -> ListenerRoutes.all(twice)).hasMessageContaining("both listen on port 15012");
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

  static FilterChain.Builder weighted(String sni, Object... clusterAndWeight) {
    TcpProxy.WeightedCluster.Builder wc = TcpProxy.WeightedCluster.newBuilder();
    for (int i = 0; i < clusterAndWeight.length; i += 2) {
      wc.addClusters(TcpProxy.WeightedCluster.ClusterWeight.newBuilder().setName((String) clusterAndWeight[i])
          .setWeight((Integer) clusterAndWeight[i + 1]));
    }
    FilterChain.Builder c = FilterChain.newBuilder().addFilters(Filter.newBuilder().setName(ListenerRoutes.TCP_PROXY)
        .setTypedConfig(Any.pack(TcpProxy.newBuilder().setStatPrefix("split").setWeightedClusters(wc).build())));
    if (sni != null) c.setFilterChainMatch(FilterChainMatch.newBuilder().addServerNames(sni));
    return c;
  }

  @Test
  void aChainWithoutServerNamesMatchesAnyNameAndWeightedClustersKeepTheirWeights() throws Exception {
    ListenerRoutes.Chains c = ListenerRoutes.routes(listener(15012, sniChain(SNI, CLUSTER),
        weighted(null, "a", 3, "b", 1, "never", 0)));
    assertThat(c.anyName()).containsExactly(new ClusterWeight("a", 3), new ClusterWeight("b", 1));
    assertThat(c.byName()).containsOnlyKeys(SNI);
    assertThat(c.clusters()).containsExactly("a", "b", CLUSTER);
  }

  @Test
  void twoChainsForAnyNameOrForOneNameAndOtherMatchFieldsAreRefused() {
    assertThatThrownBy(() -> ListenerRoutes.routes(listener(15012, weighted(null, "a", 1), weighted(null, "b", 1))))
        .hasMessageContaining("filter_chains[1] matches any server name, as an earlier chain already does");
    assertThatThrownBy(() -> ListenerRoutes.routes(listener(15012, sniChain(SNI, CLUSTER), sniChain(SNI, "other"))))
        .hasMessageContaining("which an earlier chain already matches");
    FilterChain.Builder byPort = sniChain(SNI, CLUSTER);
    byPort.getFilterChainMatchBuilder().setDestinationPort(com.google.protobuf.UInt32Value.of(8443));
    assertThatThrownBy(() -> ListenerRoutes.routes(listener(15012, byPort)))
        .hasMessageContaining("matches on more than server_names");
    assertThatThrownBy(() -> ListenerRoutes.routes(listener(15012, weighted(SNI, "a", 0))))
        .hasMessageContaining("no cluster with a weight above 0");
  }
}
