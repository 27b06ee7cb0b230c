package weft.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * PASSTHROUGH servers and VirtualService tls routes through Weft's control plane to weft-gateway:
 * it listens on every port its listeners name, opens and closes them as the Gateway changes, and
 * relays TLS to the routed service (the backend's own certificate answers).
 */
class GatewayListenersTest {
  TlsBackend backend;
  ControlPlane cp;
  Gateway gateway;

  @AfterEach
  void stop() {
    if (gateway != null) gateway.close();
    if (cp != null) cp.close();
    if (backend != null) backend.close();
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** The control plane's Service (port 15012 to the backend) and a Gateway of PASSTHROUGH servers on {@code ports}. */
  static String config(int backendPort, int... ports) {
    StringBuilder servers = new StringBuilder();
    StringBuilder routes = new StringBuilder();
    for (int p : ports) {
      servers.append("""
            - port: {name: tls-%d, number: %d, protocol: tls}
              tls: {mode: PASSTHROUGH}
              hosts: ["*"]
          """.formatted(p, p));
      routes.append("""
            - match:
              - port: %d
                sniHosts: ["*"]
              route:
              - destination:
                  host: istiod.istio-system.svc.cluster.local
                  port: {number: 15012}
          """.formatted(p));
    }
    return """
        apiVersion: v1
        kind: Service
        metadata: {name: istiod, namespace: istio-system}
        spec:
          clusterIP: 10.96.0.2
          ports: [{name: tls-xds, port: 15012, targetPort: %d}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: istiod-1, namespace: istio-system, labels: {kubernetes.io/service-name: istiod}}
        addressType: IPv4
        ports: [{name: tls-xds, port: %d}]
        endpoints:
        - addresses: ["127.0.0.1"]
        ---
        apiVersion: networking.istio.io/v1alpha3
        kind: Gateway
        metadata: {name: istiod-gateway, namespace: istio-system}
        spec:
          selector: {istio: eastwestgateway}
          servers:
        %s---
        apiVersion: networking.istio.io/v1alpha3
        kind: VirtualService
        metadata: {name: istiod-vs, namespace: istio-system}
        spec:
          hosts: ["*"]
          gateways: [istiod-gateway]
          tls:
        %s""".formatted(backendPort, backendPort, servers, routes);
  }

  @Test
  void listensOnEveryPassthroughPortAndOpensAndClosesThemAsTheGatewayChanges() throws Exception {
    backend = new TlsBackend("istiod", "127.0.0.1", 0);
    int first = freePort();
    int second = freePort();
    cp = new ControlPlane(config(backend.port(), first, second));
    gateway = Gateway.start(GatewayOptions.defaults("127.0.0.1:" + cp.port(), "eastwest-1", "127.0.0.9")
        .withCluster("cluster1", "").withListen("127.0.0.1", 0).withHealthPort(0)
        .withLabels(Map.of("istio", "eastwestgateway")));
    await().atMost(Duration.ofSeconds(60)).until(() -> gateway.listenerPorts().contains(first)
        && gateway.listenerPorts().contains(second));
    assertThat(gateway.routes().table(first).serverNames()).containsExactly("*");

    for (int port : new int[] {first, second}) {
      // Any name, as sniHosts "*" says: the control plane's own name, as the agent sends it.
      try (TlsClient c = new TlsClient(port, "istiod.istio-system.svc", backend.cert)) {
        assertThat(c.handshake()).as("the backend's own certificate: passed through").isEqualTo("istiod");
        assertThat(c.echo("csr through port " + port)).isEqualTo("csr through port " + port);
      }
    }
    try (TlsClient c = new TlsClient(first, null, backend.cert)) {
      assertThat(c.handshake()).as("a ClientHello without SNI takes the chain for any name").isEqualTo("istiod");
    }

    int third = freePort();
    cp.apply(config(backend.port(), first, third), false);
    await().atMost(Duration.ofSeconds(60)).until(() -> gateway.listenerPorts().contains(third)
        && !gateway.listenerPorts().contains(second));
    assertThatThrownBy(() -> new Socket(InetAddress.getLoopbackAddress(), second).close())
        .as("the removed server's port is closed").isInstanceOf(ConnectException.class);
    try (TlsClient c = new TlsClient(third, "istiod.istio-system.svc", backend.cert)) {
      assertThat(c.handshake()).isEqualTo("istiod");
    }
    assertThat(gateway.unboundPorts()).isEmpty();
  }

  @Test
  void aChainForAnyNameAlsoTakesAConnectionThatIsNotTlsAsEnvoysDoes() throws Exception {
    try (ServerSocket echo = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
      Thread server = new Thread(() -> {
        try (Socket s = echo.accept()) {
          s.getOutputStream().write(s.getInputStream().readNBytes(5));
          s.getOutputStream().flush();
        } catch (IOException ignored) {
          // the assertion below reports it
        }
      });
      server.setDaemon(true);
      server.start();
      int port = freePort();
      cp = new ControlPlane(config(echo.getLocalPort(), port));
      gateway = Gateway.start(GatewayOptions.defaults("127.0.0.1:" + cp.port(), "eastwest-1", "127.0.0.9")
          .withCluster("cluster1", "").withListen("127.0.0.1", 0).withHealthPort(0)
          .withLabels(Map.of("istio", "eastwestgateway")));
      await().atMost(Duration.ofSeconds(60)).until(() -> gateway.listenerPorts().contains(port));
      try (Socket plain = new Socket(InetAddress.getLoopbackAddress(), port)) {
        plain.setSoTimeout(10_000);
        // An HTTP/2 preface's first bytes: no TLS record, so no SNI; relayed untouched.
        plain.getOutputStream().write("PRI *".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        plain.getOutputStream().flush();
        assertThat(new String(plain.getInputStream().readNBytes(5), java.nio.charset.StandardCharsets.US_ASCII))
            .isEqualTo("PRI *");
      }
    }
  }

  @Test
  void aPortThatCannotBeBoundIsReportedWhileTheOtherListenersServe() throws Exception {
    backend = new TlsBackend("istiod", "127.0.0.1", 0);
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int free = freePort();
      cp = new ControlPlane(config(backend.port(), taken.getLocalPort(), free));
      gateway = Gateway.start(GatewayOptions.defaults("127.0.0.1:" + cp.port(), "eastwest-1", "127.0.0.9")
          .withCluster("cluster1", "").withListen("127.0.0.1", 0).withHealthPort(0)
          .withLabels(Map.of("istio", "eastwestgateway")));
      await().atMost(Duration.ofSeconds(60)).until(() -> gateway.listenerPorts().contains(free));
      assertThat(gateway.unboundPorts()).containsOnlyKeys(taken.getLocalPort());
      assertThat(gateway.unboundPorts().get(taken.getLocalPort())).contains("cannot listen on 127.0.0.1:"
          + taken.getLocalPort());
      try (TlsClient c = new TlsClient(free, "istiod.istio-system.svc", backend.cert)) {
        assertThat(c.handshake()).isEqualTo("istiod");
      }
    }
  }
}
