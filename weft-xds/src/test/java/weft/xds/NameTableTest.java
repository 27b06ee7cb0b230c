package weft.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.dns.nds.NameTable;
import weft.registry.Locality;
import weft.xds.nds.NameTables;
import weft.xds.proxy.Proxy;
import weft.xds.view.ProxyView;

/** Istio's name table (NDS): who gets one, what it holds, and that it agrees with the listeners. */
class NameTableTest {
  static final String DB = """
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: db, namespace: default, creationTimestamp: "2026-01-01T00:00:00Z"}
      spec:
        hosts: [db.example.com]
        ports: [{number: 3306, name: tcp, protocol: TCP}]
        resolution: DNS
      ---
      """;

  TestMesh mesh;

  @AfterEach
  void stop() {
    if (mesh != null) mesh.close();
  }

  /** A sidecar node whose metadata asks for DNS proxying, as ISTIO_META_DNS_CAPTURE=true gives it. */
  static Node capturing(Node node) {
    return node.toBuilder().setMetadata(node.getMetadata().toBuilder()
        .putFields("DNS_CAPTURE", Value.newBuilder().setStringValue("true").build())
        .putFields("DNS_AUTO_ALLOCATE", Value.newBuilder().setStringValue("true").build())).build();
  }

  static NameTable table(DiscoveryResponse r) throws Exception {
    assertThat(r.getResourcesList()).hasSize(1);
    return r.getResources(0).unpack(NameTable.class);
  }

  static Listener listener(DiscoveryResponse r, String name) throws Exception {
    for (Any a : r.getResourcesList()) {
      Listener l = a.unpack(Listener.class);
      if (l.getName().equals(name)) return l;
    }
    return null;
  }

  @Test
  void serviceEntryNameTableAddressIsTheAddressOfThatProxysOutboundListener() throws Exception {
    mesh = new TestMesh(DB + TestMesh.service("reviews", "default", 9080, "10.1.0.1"));
    try (AdsTestClient c = new AdsTestClient(mesh.port(), capturing(AdsTestClient.sidecar("web-1", "default", "10.1.9.9")))) {
      c.request(TypeUrls.NAME_TABLE, List.of());
      DiscoveryResponse nds = c.next();
      assertThat(nds.getTypeUrl()).isEqualTo(TypeUrls.NAME_TABLE);
      NameTable.NameInfo db = table(nds).getTableOrThrow("db.example.com");
      assertThat(db.getIpsList()).hasSize(2);
      String v4 = db.getIps(0);
      assertThat(v4).startsWith("240.240.");
      assertThat(db.getIps(1)).startsWith("2001:2::");
      assertThat(db.getRegistry()).isEqualTo("External");

      c.request(TypeUrls.LISTENER, List.of());
      DiscoveryResponse lds = c.next();
      Listener l = listener(lds, v4 + "_3306");
      assertThat(l).as("outbound listener at the name-table address").isNotNull();
      assertThat(l.getAddress().getSocketAddress().getAddress()).isEqualTo(v4);
      assertThat(l.getAddress().getSocketAddress().getPortValue()).isEqualTo(3306);
    }
    // Without DNS proxying: no table, and the entry keeps no address of its own in its listeners.
    try (AdsTestClient plain = new AdsTestClient(mesh.port(), AdsTestClient.sidecar("web-2", "default", "10.1.9.8"))) {
      plain.request(TypeUrls.NAME_TABLE, List.of());
      assertThat(plain.next().getResourcesList()).isEmpty();
      plain.request(TypeUrls.LISTENER, List.of());
      DiscoveryResponse lds = plain.next();
      assertThat(lds.getResourcesList()).extracting(a -> a.unpack(Listener.class).getName())
          .noneMatch(n -> n.startsWith("240.240.")).contains("0.0.0.0_9080");
    }
  }

  @Test
  void deltaClientsGetTheTableAndItsChanges() throws Exception {
    mesh = new TestMesh(DB);
    try (DeltaTestClient c = new DeltaTestClient(mesh.port(), capturing(AdsTestClient.sidecar("web-1", "default", "10.1.9.9")))) {
      c.subscribe(TypeUrls.NAME_TABLE, List.of(), Map.of());
      DeltaDiscoveryResponse first = c.next();
      assertThat(first.getResourcesList()).hasSize(1);
      NameTable t = first.getResources(0).getResource().unpack(NameTable.class);
      String db = t.getTableOrThrow("db.example.com").getIps(0);
      c.ack(first);
      mesh.apply("""
          apiVersion: v1
          kind: Service
          metadata: {name: details, namespace: default}
          spec: {clusterIP: 10.96.3.3, ports: [{name: grpc, port: 9080}]}
          """, false);
      DeltaDiscoveryResponse next = c.next();
      NameTable t2 = next.getResources(0).getResource().unpack(NameTable.class);
      assertThat(t2.getTableOrThrow("details.default.svc.cluster.local").getIpsList()).containsExactly("10.96.3.3");
      // Another service arriving never moves the entry's address.
      assertThat(t2.getTableOrThrow("db.example.com").getIps(0)).isEqualTo(db);
    }
  }

  static final String TWO_CLUSTERS_CLUSTER1 = """
      apiVersion: v1
      kind: Service
      metadata: {name: both, namespace: default}
      spec: {clusterIP: 10.96.1.1, ports: [{name: http, port: 80}]}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: web, namespace: default}
      spec: {clusterIP: None, ports: [{name: http, port: 80}]}
      ---
      apiVersion: discovery.k8s.io/v1
      kind: EndpointSlice
      metadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}
      addressType: IPv4
      ports: [{name: http, port: 80}]
      endpoints:
      - addresses: ["10.1.0.10"]
        hostname: web-0
      - addresses: ["10.1.0.11"]
        hostname: web-1
      - addresses: ["10.1.0.12"]
        conditions: {ready: false}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: private, namespace: other, annotations: {networking.istio.io/exportTo: "."}}
      spec: {clusterIP: 10.96.9.9, ports: [{name: http, port: 80}]}
      ---
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: wild, namespace: default}
      spec:
        hosts: ["*.wild.example.com"]
        ports: [{number: 443, name: tls, protocol: TLS}]
        resolution: NONE
      ---
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: fixed, namespace: default}
      spec:
        hosts: [fixed.example.com]
        addresses: [192.0.2.7, 192.0.2.0/24]
        ports: [{number: 443, name: tls, protocol: TLS}]
        resolution: STATIC
        endpoints: [{address: 203.0.113.7}]
      ---
      """;
  static final String TWO_CLUSTERS_CLUSTER2 = """
      apiVersion: v1
      kind: Service
      metadata: {name: both, namespace: default}
      spec: {clusterIP: 10.97.1.1, ports: [{name: http, port: 80}]}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: remote-only, namespace: default}
      spec: {clusterIP: 10.97.2.2, ports: [{name: http, port: 80}]}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: web, namespace: default}
      spec: {clusterIP: None, ports: [{name: http, port: 80}]}
      ---
      apiVersion: discovery.k8s.io/v1
      kind: EndpointSlice
      metadata: {name: web-2, namespace: default, labels: {kubernetes.io/service-name: web}}
      addressType: IPv4
      ports: [{name: http, port: 80}]
      endpoints:
      - addresses: ["10.2.0.10"]
        hostname: web-5
      ---
      """;

  static Proxy proxy(String cluster, String namespace, boolean proxyless, boolean dnsCapture) {
    return new Proxy("sidecar~10.9.0.1~c." + namespace + "~" + namespace + ".svc.cluster.local", "sidecar", "10.9.0.1",
        "c", namespace, cluster, "", Map.of(), "", Locality.UNKNOWN, proxyless, namespace + ".svc.cluster.local",
        dnsCapture);
  }

  NameTable generate(Generators generators, Proxy p) throws Exception {
    ProxyView view = generators.view(mesh.registry.current(), p);
    Generation g = generators.generateAll(TypeUrls.NAME_TABLE, view);
    assertThat(g.failed()).isFalse();
    return g.get(NameTables.RESOURCE_NAME).unpack(NameTable.class);
  }

  @Test
  void tableHoldsEveryVisibleHostWithTheAddressesAProxyOfItsClusterShouldDial() throws Exception {
    mesh = new TestMesh(TWO_CLUSTERS_CLUSTER1);
    mesh.apply("cluster2", TWO_CLUSTERS_CLUSTER2, true);
    Generators generators = new Generators();
    NameTable one = generate(generators, proxy("cluster1", "default", false, true));
    NameTable two = generate(generators, proxy("cluster2", "default", false, true));

    // A service of both clusters: each proxy its own cluster's VIP; remote-only: cluster2's VIP everywhere.
    assertThat(one.getTableOrThrow("both.default.svc.cluster.local").getIpsList()).containsExactly("10.96.1.1");
    assertThat(two.getTableOrThrow("both.default.svc.cluster.local").getIpsList()).containsExactly("10.97.1.1");
    NameTable.NameInfo remote = one.getTableOrThrow("remote-only.default.svc.cluster.local");
    assertThat(remote.getIpsList()).containsExactly("10.97.2.2");
    assertThat(remote.getShortname()).isEqualTo("remote-only");
    assertThat(remote.getNamespace()).isEqualTo("default");
    assertThat(remote.getRegistry()).isEqualTo("Kubernetes");

    // Headless: ready pod IPs, own cluster first; StatefulSet pods by their own names.
    assertThat(one.getTableOrThrow("web.default.svc.cluster.local").getIpsList())
        .containsExactly("10.1.0.10", "10.1.0.11", "10.2.0.10");
    assertThat(two.getTableOrThrow("web.default.svc.cluster.local").getIpsList())
        .containsExactly("10.2.0.10", "10.1.0.10", "10.1.0.11");
    assertThat(one.getTableOrThrow("web-0.web.default.svc.cluster.local").getIpsList()).containsExactly("10.1.0.10");
    assertThat(one.getTableOrThrow("web-5.web.default.svc.cluster.local").getIpsList()).containsExactly("10.2.0.10");
    assertThat(one.getTableOrThrow("web-0.web.default.svc.cluster.local").getShortname()).isEqualTo("web-0.web");

    // exportTo hides, wildcards have no address, a user's addresses are answered (a CIDR cannot be).
    assertThat(one.getTableMap()).doesNotContainKey("private.other.svc.cluster.local")
        .doesNotContainKey("*.wild.example.com");
    assertThat(one.getTableOrThrow("fixed.example.com").getIpsList()).containsExactly("192.0.2.7");
    NameTable insider = generate(generators, proxy("cluster1", "other", false, true));
    assertThat(insider.getTableOrThrow("private.other.svc.cluster.local").getIpsList()).containsExactly("10.96.9.9");

    // Caching changes no byte: a fresh generator, nothing shared, gives the same table.
    assertThat(generate(new Generators(false, GeneratorProbe.NONE, false), proxy("cluster1", "default", false, true)))
        .isEqualTo(one);
  }

  @Test
  void proxylessWorkloadsGetNoAutomaticAddressesAndProxiesWithoutCaptureNoTable() throws Exception {
    mesh = new TestMesh(DB + TestMesh.service("reviews", "default", 9080, "10.1.0.1"));
    Generators generators = new Generators();
    NameTable proxyless = generate(generators, proxy("cluster1", "default", true, true));
    assertThat(proxyless.getTableMap()).doesNotContainKey("db.example.com");
    ProxyView shown = generators.view(mesh.registry.current(), proxy("cluster1", "default", true, true));
    generators.generateAll(TypeUrls.NAME_TABLE, shown);
    assertThat(shown.dropped().get("db.example.com")).contains("name table", "upstream resolver");
    NameTable envoy = generate(generators, proxy("cluster1", "default", false, true));
    assertThat(envoy.getTableMap()).containsKey("db.example.com");
    ProxyView view = generators.view(mesh.registry.current(), proxy("cluster1", "default", false, false));
    assertThat(generators.generateAll(TypeUrls.NAME_TABLE, view).resources()).isEmpty();
  }

  @Test
  void headlessPodChangesReachTheTable() throws Exception {
    mesh = new TestMesh(TWO_CLUSTERS_CLUSTER1);
    try (AdsTestClient c = new AdsTestClient(mesh.port(), capturing(AdsTestClient.sidecar("a", "default", "10.1.9.9")))) {
      c.request(TypeUrls.NAME_TABLE, List.of());
      DiscoveryResponse first = c.next();
      assertThat(table(first).getTableOrThrow("web.default.svc.cluster.local").getIpsList())
          .containsExactly("10.1.0.10", "10.1.0.11");
      c.ack(first, List.of());
      mesh.apply("""
          apiVersion: discovery.k8s.io/v1
          kind: EndpointSlice
          metadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}
          addressType: IPv4
          ports: [{name: http, port: 80}]
          endpoints:
          - addresses: ["10.1.0.10"]
            hostname: web-0
          - addresses: ["10.1.0.12"]
          """, false);
      DiscoveryResponse next = c.next();
      assertThat(table(next).getTableOrThrow("web.default.svc.cluster.local").getIpsList())
          .containsExactly("10.1.0.10", "10.1.0.12");
      assertThat(table(next).getTableMap()).doesNotContainKey("web-1.web.default.svc.cluster.local");
    }
  }

  @Test
  void dnsCaptureComesFromIstiosMetadataAsStringsOrBooleans() throws Exception {
    mesh = new TestMesh(DB);
    Node asBool = AdsTestClient.sidecar("b", "default", "10.1.9.7").toBuilder().setMetadata(
        AdsTestClient.sidecar("b", "default", "10.1.9.7").getMetadata().toBuilder()
            .putFields("DNS_CAPTURE", Value.newBuilder().setBoolValue(true).build())).build();
    try (AdsTestClient c = new AdsTestClient(mesh.port(), asBool)) {
      c.request(TypeUrls.NAME_TABLE, List.of());
      assertThat(table(c.next()).getTableMap()).containsKey("db.example.com");
    }
    Node off = AdsTestClient.sidecar("d", "default", "10.1.9.6").toBuilder().setMetadata(
        AdsTestClient.sidecar("d", "default", "10.1.9.6").getMetadata().toBuilder()
            .putFields("DNS_CAPTURE", Value.newBuilder().setStringValue("false").build())).build();
    try (AdsTestClient c = new AdsTestClient(mesh.port(), off)) {
      c.request(TypeUrls.NAME_TABLE, List.of());
      assertThat(c.next().getResourcesList()).isEmpty();
    }
  }
}
