package weft.gateway.xds;

import static org.assertj.core.api.Assertions.assertThat;

import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.Pipe;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class EndpointsTest {
  static LbEndpoint endpoint(Address address) {
    return LbEndpoint.newBuilder().setEndpoint(Endpoint.newBuilder().setAddress(address)).build();
  }

  @Test
  void aUnixSocketEndpointIsSkippedAndTheRestStillServe() throws Exception {
    ClusterLoadAssignment cla = ClusterLoadAssignment.newBuilder().setClusterName("outbound|5432||db.local")
        .addEndpoints(LocalityLbEndpoints.newBuilder()
            .addLbEndpoints(endpoint(Address.newBuilder().setPipe(Pipe.newBuilder().setPath("/var/run/db.sock"))
                .build()))
            .addLbEndpoints(endpoint(Address.newBuilder().setSocketAddress(SocketAddress.newBuilder()
                .setAddress("10.1.3.1").setPortValue(5432)).build())))
        .build();
    assertThat(Endpoints.usable(cla)).containsExactly(InetSocketAddress.createUnresolved("10.1.3.1", 5432));
  }
}
