package weft.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Weft's control plane, the gateway and two TLS workloads on loopback; real sockets throughout. */
class GatewayPassthroughTest {
  static final String SNI = "outbound_.9080_._.reviews.default.svc.cluster.local";
  static final String GATEWAY = """
      apiVersion: networking.istio.io/v1
      kind: Gateway
      metadata: {name: cross-network-gateway, namespace: istio-system}
      spec:
        selector: {istio: eastwestgateway}
        servers:
        - port: {number: 15443, name: tls, protocol: TLS}
          hosts: ["*.local"]
          tls: {mode: AUTO_PASSTHROUGH}
      ---
      """;

  TlsBackend one;
  TlsBackend two;
  ControlPlane cp;
  Gateway gateway;

  static String reviews(int port, String... ips) {
    StringBuilder y = new StringBuilder("""
        apiVersion: v1
        kind: Service
        metadata: {name: reviews, namespace: default}
        spec:
          clusterIP: 10.96.0.10
          ports: [{name: tls, port: 9080, targetPort: %d}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: reviews-1, namespace: default, labels: {kubernetes.io/service-name: reviews}}
        addressType: IPv4
        ports: [{name: tls, port: %d}]
        endpoints:
        """.formatted(port, port));
    for (String ip : ips) y.append("- addresses: [\"").append(ip).append("\"]\n");
    return y.append("---\n").toString();
  }

  @BeforeEach
  void start() throws Exception {
    one = new TlsBackend("backend-1", "127.0.0.1", 0);
    // Both workloads of the service listen on the same port, as pods do.
    two = new TlsBackend("backend-2", "127.0.0.2", one.port());
    cp = new ControlPlane(reviews(one.port(), "127.0.0.1", "127.0.0.2") + GATEWAY);
  }

  @AfterEach
  void stop() {
    if (gateway != null) gateway.close();
    if (cp != null) cp.close();
    if (one != null) one.close();
    if (two != null) two.close();
  }

  Gateway startGateway(int xdsPort) throws Exception {
    return Gateway.start(GatewayOptions.defaults("127.0.0.1:" + xdsPort, "eastwest-1", "127.0.0.9")
        .withCluster("cluster1", "")
        .withLabels(Map.of("istio", "eastwestgateway", "app", "istio-eastwestgateway"))
        .withListen("127.0.0.1", 0)
        .withHealthPort(0));
  }

  void startAndAwaitTable() throws Exception {
    gateway = startGateway(cp.port());
    await().atMost(Duration.ofSeconds(60)).until(() -> gateway.ready());
  }

  TlsClient client(String sni) throws Exception {
    return new TlsClient(gateway.port(), sni, one.cert, two.cert);
  }

  @Test
  void clientHandshakesEndToEndWithTheBackendsOwnCertificateThroughTheGateway() throws Exception {
    startAndAwaitTable();
    assertThat(gateway.table().route(SNI).cluster()).isEqualTo("outbound|9080||reviews.default.svc.cluster.local");
    try (TlsClient c = client(SNI)) {
      assertThat(c.handshake()).as("the backend's certificate: the gateway never terminated TLS")
          .isIn("backend-1", "backend-2");
      assertThat(c.echo("hello through the gateway")).isEqualTo("hello through the gateway");
    }
  }

  @Test
  void newConnectionsAreSpreadOverTheServicesEndpoints() throws Exception {
    startAndAwaitTable();
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 4; i++) {
      try (TlsClient c = client(SNI)) {
        seen.add(c.handshake());
      }
    }
    assertThat(seen).containsExactlyInAnyOrder("backend-1", "backend-2");
  }

  @Test
  void unknownSniAndMissingSniAreClosedAndCounted() throws Exception {
    startAndAwaitTable();
    try (TlsClient c = client("outbound_.9080_._.nothing.default.svc.cluster.local")) {
      assertThatThrownBy(c::handshake).isInstanceOf(IOException.class);
    }
    try (TlsClient c = client(null)) {
      assertThatThrownBy(c::handshake).isInstanceOf(IOException.class);
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> gateway.stats().refusedCount() == 2);
    await().atMost(Duration.ofSeconds(60)).until(() -> gateway.stats().active() == 0);
  }

  @Test
  void removedEndpointGetsNoNewConnectionsWhileItsOpenConnectionKeepsWorking() throws Exception {
    startAndAwaitTable();
    List<TlsClient> open = new ArrayList<>();
    TlsClient onTwo = null;
    try {
      for (int i = 0; i < 4 && onTwo == null; i++) {
        TlsClient c = client(SNI);
        open.add(c);
        if (c.handshake().equals("backend-2")) onTwo = c;
      }
      assertThat(onTwo).as("round robin reaches backend-2").isNotNull();

      cp.apply(reviews(one.port(), "127.0.0.1"), false);
      await().atMost(Duration.ofSeconds(60))
          .until(() -> gateway.table().route(SNI).endpoints().size() == 1);

      for (int i = 0; i < 4; i++) {
        try (TlsClient c = client(SNI)) {
          assertThat(c.handshake()).isEqualTo("backend-1");
        }
      }
      assertThat(onTwo.echo("still here")).as("the open connection to the removed endpoint finishes on its own")
          .isEqualTo("still here");
    } finally {
      for (TlsClient c : open) c.close();
    }
  }

  @Test
  void largeTransferInBothDirectionsArrivesIntactThroughBackpressure() throws Exception {
    startAndAwaitTable();
    byte[] data = new byte[16 << 20];
    new java.util.Random(7).nextBytes(data);
    try (TlsClient c = client(SNI)) {
      c.handshake();
      Thread writer = new Thread(() -> {
        try {
          c.socket.getOutputStream().write(data);
          c.socket.getOutputStream().flush();
        } catch (IOException ignored) {
          // The read below fails too and reports it.
        }
      });
      writer.start();
      byte[] back = c.socket.getInputStream().readNBytes(data.length);
      writer.join();
      assertThat(java.util.Arrays.equals(back, data)).as("16 MiB echoed intact").isTrue();
    }
  }

  @Test
  void healthzIs503BeforeTheFirstTableAnd200After() throws Exception {
    int dead;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      dead = s.getLocalPort();
    }
    try (Gateway waiting = startGateway(dead)) {
      assertThat(get(waiting.healthPort(), "/healthz")).isEqualTo(503);
    }
    startAndAwaitTable();
    assertThat(get(gateway.healthPort(), "/healthz")).isEqualTo(200);
    assertThat(get(gateway.healthPort(), "/stats")).isEqualTo(200);
  }

  @Test
  void keepsRoutingWhileTheControlPlaneIsDownAndFollowsItAgainAfterReconnecting() throws Exception {
    startAndAwaitTable();
    int xdsPort = cp.port();
    cp.stopServing();
    await().atMost(Duration.ofSeconds(60)).until(() -> !gateway.xds().connected());
    try (TlsClient c = client(SNI)) {
      assertThat(c.handshake()).isIn("backend-1", "backend-2");
    }
    cp.apply(reviews(one.port(), "127.0.0.2"), false);
    cp.serve(xdsPort);
    await().atMost(Duration.ofSeconds(60)).until(() -> gateway.table().route(SNI).endpoints()
        .equals(List.of(InetSocketAddress.createUnresolved("127.0.0.2", one.port()))));
    try (TlsClient c = client(SNI)) {
      assertThat(c.handshake()).isEqualTo("backend-2");
    }
  }

  static int get(int port, String path) throws IOException {
    HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + path).toURL().openConnection();
    try {
      return c.getResponseCode();
    } finally {
      c.disconnect();
    }
  }
}
