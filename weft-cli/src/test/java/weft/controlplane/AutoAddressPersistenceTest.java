package weft.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.dns.alloc.AddressAllocator;
import weft.dns.alloc.AddressStateFile;
import weft.model.ResourceId;
import weft.model.ServiceEntry;

/**
 * Automatic addresses survive a restart and agree between control planes: in file mode through
 * {@code --state-dir}, in Kubernetes mode through the entries' {@code status.addresses}.
 */
class AutoAddressPersistenceTest {
  static final Duration PATIENCE = Duration.ofSeconds(60);

  /** Two hosts whose first-choice IPv4 address is the same (found through the public allocator). */
  static String[] collidingHosts() {
    Map<String, String> byAddress = new HashMap<>();
    for (int i = 0; ; i++) {
      String host = "svc" + i + ".example.com";
      ServiceEntry alone = new ServiceEntry(new ResourceId("ServiceEntry", "default", "x"), List.of(host), List.of(),
          List.of(), "MESH_EXTERNAL", "DNS", List.of(), null, List.of(), List.of());
      String ip = AddressAllocator.allocate(List.of(alone), Map.of()).of("default", host).ipv4();
      String other = byAddress.putIfAbsent(ip, host);
      if (other != null) return new String[] {other, host};
    }
  }

  static String entry(String name, String host, String created) {
    return """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: %s, namespace: default%s}
        spec:
          hosts: [%s]
          ports: [{number: 5432, name: tcp, protocol: TCP}]
          resolution: DNS
        """.formatted(name, created == null ? "" : ", creationTimestamp: \"" + created + "\"", host);
  }

  static ControlPlane start(Path config, Path state) throws Exception {
    ControlPlaneOptions o = ControlPlaneOptions.forConfigDir(config).withPorts(0, 0)
        .withRemoteSecrets(null, state, Duration.ofSeconds(5));
    return ControlPlane.start(o);
  }

  static String ipv4(ControlPlane cp, String host) {
    var a = cp.autoAddresses().of("default", host);
    return a == null ? null : a.ipv4();
  }

  @Test
  void fileModeKeepsAnAddressAcrossARestartAndTwoControlPlanesAgree(@TempDir Path dir) throws Exception {
    String[] pair = collidingHosts();
    Path config = Files.createDirectories(dir.resolve("config"));
    Path state = Files.createDirectories(dir.resolve("state"));
    // Files have no creation time: namespace/name decides who is older ("a-..." before "b-...").
    Files.writeString(config.resolve("holder.yaml"), entry("a-holder", pair[0], null));
    Files.writeString(config.resolve("newer.yaml"), entry("b-newer", pair[1], null));
    String holderAddress;
    String newerAddress;
    try (ControlPlane one = start(config, state);
        ControlPlane two = start(config, Files.createDirectories(dir.resolve("state-two")))) {
      holderAddress = ipv4(one, pair[0]);
      newerAddress = ipv4(one, pair[1]);
      assertThat(holderAddress).startsWith("240.240.");
      assertThat(newerAddress).startsWith("240.240.").isNotEqualTo(holderAddress);
      assertThat(two.autoAddresses().addresses()).isEqualTo(one.autoAddresses().addresses());

      // The holder goes; the newcomer stays where it is, and the state file says so.
      Files.delete(config.resolve("holder.yaml"));
      await().atMost(PATIENCE).until(() -> one.autoAddresses().of("default", pair[0]) == null);
      assertThat(ipv4(one, pair[1])).isEqualTo(newerAddress);
      one.flushAutoAddresses();
      assertThat(new AddressStateFile(state).load().addresses()).containsOnlyKeys(
          new weft.dns.alloc.HostKey("default", pair[1]));
    }
    try (ControlPlane restarted = start(config, state)) {
      assertThat(ipv4(restarted, pair[1])).as("after a restart").isEqualTo(newerAddress);
    }
    // Without its state the rules alone would put it on the freed first choice: the file is what keeps it.
    try (ControlPlane forgetful = start(config, Files.createDirectories(dir.resolve("empty")))) {
      assertThat(ipv4(forgetful, pair[1])).isEqualTo(holderAddress);
    }
  }

  static final ResourceDefinitionContext SE = new ResourceDefinitionContext.Builder().withGroup("networking.istio.io")
      .withVersion("v1").withKind("ServiceEntry").withPlural("serviceentries").withNamespaced(true).build();

  static GenericKubernetesResource serviceEntry(String name, String host, String created) throws Exception {
    var r = io.fabric8.kubernetes.client.utils.Serialization.unmarshal(entry(name, host, created),
        GenericKubernetesResource.class);
    return r;
  }

  @Test
  void kubernetesModeWritesStatusAddressesThatARestartedControlPlaneFollows(@TempDir Path dir) throws Exception {
    String[] pair = collidingHosts();
    KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
        new KubernetesCrudDispatcher(), false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    for (String[] k : new String[][] {{"ServiceEntry", "serviceentries"}, {"WorkloadEntry", "workloadentries"},
        {"DestinationRule", "destinationrules"}, {"VirtualService", "virtualservices"}, {"Sidecar", "sidecars"},
        {"Gateway", "gateways"}}) {
      server.expectCustomResource(new CustomResourceDefinitionContext.Builder().withGroup("networking.istio.io")
          .withVersion("v1").withKind(k[0]).withPlural(k[1]).withScope("Namespaced").withStatusSubresource(true)
          .withName(k[1] + ".networking.istio.io").build());
    }
    for (String[] k : new String[][] {{"PeerAuthentication", "peerauthentications"},
        {"AuthorizationPolicy", "authorizationpolicies"}, {"RequestAuthentication", "requestauthentications"}}) {
      server.expectCustomResource(new CustomResourceDefinitionContext.Builder().withGroup("security.istio.io")
          .withVersion("v1").withKind(k[0]).withPlural(k[1]).withScope("Namespaced")
          .withName(k[1] + ".security.istio.io").build());
    }
    try (NamespacedKubernetesClient admin = server.createClient()) {
      var entries = admin.genericKubernetesResources(SE).inNamespace("default");
      entries.resource(serviceEntry("holder", pair[0], "2026-01-01T00:00:00Z")).create();
      entries.resource(serviceEntry("newer", pair[1], "2026-01-02T00:00:00Z")).create();
      Path kubeconfig = MockApiServers.kubeconfig(dir, server.getPort());
      ControlPlaneOptions options = ControlPlaneOptions.forKubeconfig(kubeconfig).withPorts(0, 0);
      String newerAddress;
      try (ControlPlane one = ControlPlane.start(options)) {
        await().atMost(PATIENCE).until(() -> ipv4(one, pair[1]) != null);
        newerAddress = ipv4(one, pair[1]);
        String holderAddress = ipv4(one, pair[0]);
        // The leader writes status.addresses: IPv4 and IPv6 per host, Istio's {host, value}.
        await().atMost(PATIENCE).until(() -> statusOf(entries.withName("newer").get()).contains(newerAddress));
        assertThat(statusOf(entries.withName("holder").get())).contains(holderAddress);
        List<Map<String, Object>> written = addresses(entries.withName("newer").get());
        assertThat(written).hasSize(2);
        assertThat(written.get(0)).containsEntry("host", pair[1]).containsEntry("value", newerAddress);
        assertThat((String) written.get(1).get("value")).startsWith("2001:2::");
        entries.withName("holder").delete();
        await().atMost(PATIENCE).until(() -> one.autoAddresses().of("default", pair[0]) == null);
        assertThat(ipv4(one, pair[1])).isEqualTo(newerAddress);
      }
      // A new control plane (a restart, or another primary) knows nothing but the status: it follows it.
      try (ControlPlane two = ControlPlane.start(options)) {
        await().atMost(PATIENCE).until(() -> ipv4(two, pair[1]) != null);
        assertThat(ipv4(two, pair[1])).isEqualTo(newerAddress);
      }
    } finally {
      server.destroy();
    }
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> addresses(GenericKubernetesResource r) {
    Object status = r.getAdditionalProperties().get("status");
    if (!(status instanceof Map<?, ?> m)) return List.of();
    Object list = m.get("addresses");
    return list instanceof List<?> l ? (List<Map<String, Object>>) l : List.of();
  }

  static List<String> statusOf(GenericKubernetesResource r) {
    return addresses(r).stream().map(a -> String.valueOf(a.get("value"))).toList();
  }
}
