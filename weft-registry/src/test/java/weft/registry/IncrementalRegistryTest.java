package weft.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.model.ConfigProblem;
import weft.model.MeshNetworks;
import weft.model.Resource;
import weft.model.ResourceId;
import weft.model.parse.ParsedFile;
import weft.model.parse.ResourceParser;
import weft.registry.MeshSnapshot.WorkloadAt;

/**
 * The registry's incremental publish against a rebuild from scratch: after any sequence of updates
 * the snapshot must equal what a fresh registry makes of the same final state, and every earlier
 * snapshot must still be what it was when published.
 */
class IncrementalRegistryTest {
  static final String GATEWAY_HOST = "eastwest.istio-system.svc.cluster.local";
  static final List<String> ADDRESSES = List.of("10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5");

  final List<Registry> registries = new ArrayList<>();

  @AfterEach
  void close() {
    registries.forEach(Registry::close);
  }

  Registry registry() {
    Registry r = new Registry();
    registries.add(r);
    return r;
  }

  static List<Resource> parse(String yaml) {
    ParsedFile parsed = ResourceParser.parse("t.yaml", yaml);
    assertThat(parsed.problems()).noneMatch(p -> p.severity() == ConfigProblem.Severity.ERROR);
    return parsed.resources();
  }

  static Map<ResourceId, Resource> byId(List<Resource> resources) {
    Map<ResourceId, Resource> out = new HashMap<>();
    resources.forEach(r -> out.put(r.id(), r));
    return out;
  }

  static String service(String name, String ns, String vip, String network, List<String> externalIps) {
    return """
        apiVersion: v1
        kind: Service
        metadata: {name: %s, namespace: %s, labels: {%s}}
        spec:
          selector: {app: %s}
          clusterIP: %s
          externalIPs: [%s]
          ports: [{name: http, port: 80, targetPort: 8080}]
        """.formatted(name, ns, network == null ? "" : "topology.istio.io/network: " + network, name, vip,
        String.join(", ", externalIps));
  }

  static String slice(String service, List<String> ips, boolean byPod) {
    StringBuilder y = new StringBuilder("""
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: %s-1, namespace: default, labels: {kubernetes.io/service-name: %s}}
        addressType: IPv4
        ports: [{name: http, port: 8080}]
        endpoints:%s
        """.formatted(service, service, ips.isEmpty() ? " []" : ""));
    for (String ip : ips) {
      y.append("- addresses: [\"").append(ip).append("\"]\n");
      if (byPod) y.append("  targetRef: {kind: Pod, name: p-").append(ip.replace('.', '-')).append("}\n");
    }
    return y.toString();
  }

  static String pod(String ip, String app, String version, String sa) {
    return """
        apiVersion: v1
        kind: Pod
        metadata: {name: p-%s, namespace: default, labels: {app: %s, version: %s}}
        spec: {serviceAccountName: %s}
        status: {podIP: %s, phase: Running}
        """.formatted(ip.replace('.', '-'), app, version, sa, ip);
  }

  static String systemNamespace(String network) {
    return """
        apiVersion: v1
        kind: Namespace
        metadata: {name: istio-system, labels: {%s}}
        """.formatted(network == null ? "" : "topology.istio.io/network: " + network);
  }

  static MeshNetworks registryGateway(String network, String cluster) {
    return new MeshNetworks(Map.of(network, new MeshNetworks.Network(
        List.of(new MeshNetworks.EndpointSource(null, cluster)),
        List.of(new MeshNetworks.Gateway(null, GATEWAY_HOST, 15443, "r1/z1/")))));
  }

  // ---------------------------------------------------------------------------------------------

  @Test
  void registryServiceNameGatewaysComeOnlyFromTheClustersOfTheirNetwork() {
    Registry registry = registry();
    registry.addCluster(new ClusterSettings("c1", "net1", "istio-system"), true);
    registry.addCluster(new ClusterSettings("c2", "net2", "istio-system"), false);
    registry.setMeshNetworks(registryGateway("net2", "c2"));
    registry.update("c1", byId(parse(service("eastwest", "istio-system", "10.96.0.9", null, List.of("1.1.1.1")))), true);
    registry.update("c2", byId(parse(service("eastwest", "istio-system", "10.97.0.9", null, List.of("2.2.2.2")))), true);
    registry.flush();
    assertThat(registry.current().gateways()).containsOnlyKeys("net2");
    assertThat(registry.current().gateways().get("net2")).containsExactly(
        new NetworkGateway("net2", "2.2.2.2", 15443, "c2", Locality.parse("r1/z1/")));

    // The network's registry changes: now the other cluster's Service is its gateway.
    registry.setMeshNetworks(registryGateway("net2", "c1"));
    registry.flush();
    assertThat(registry.current().gateways().get("net2")).extracting(NetworkGateway::address)
        .containsExactly("1.1.1.1");
  }

  @Test
  void aGatewayServiceChangeIsAFullChangeAndAnOrdinaryServiceLeavesGatewaysAlone() {
    Registry registry = registry();
    List<ChangeEvent> events = new CopyOnWriteArrayList<>();
    registry.addListener((s, c) -> events.add(c));
    registry.addCluster(new ClusterSettings("c1", "net1", "istio-system"), true);
    registry.update("c1", byId(parse(service("gw", "istio-system", "10.96.0.9", "net1", List.of("1.1.1.1")))), true);
    registry.flush();
    assertThat(registry.current().gateways().get("net1")).extracting(NetworkGateway::address).containsExactly("1.1.1.1");
    Map<String, List<NetworkGateway>> before = registry.current().gateways();
    events.clear();

    registry.update("c1", byId(parse(service("web", "default", "10.96.0.1", null, List.of()))), false);
    registry.flush();
    assertThat(registry.current().gateways()).isSameAs(before);
    assertThat(events).singleElement().satisfies(c -> assertThat(c.full()).isFalse());

    events.clear();
    registry.update("c1", byId(parse(service("gw", "istio-system", "10.96.0.9", "net1", List.of("1.1.1.2")))), false);
    registry.flush();
    assertThat(registry.current().gateways().get("net1")).extracting(NetworkGateway::address).containsExactly("1.1.1.2");
    assertThat(events).containsExactly(ChangeEvent.FULL);
  }

  @Test
  void statusOnlyEventsPublishASnapshotWithAnEmptyChange() {
    Registry registry = registry();
    List<ChangeEvent> events = new CopyOnWriteArrayList<>();
    registry.addListener((s, c) -> events.add(c));
    registry.addCluster(new ClusterSettings("c1", "", "istio-system"), true);
    registry.update("c1", byId(parse(RegistryTest.reviews("10.96.0.1", "v1", "10.1.0.1"))), true);
    registry.flush();
    long version = registry.current().version();
    MeshSnapshot before = registry.current();
    events.clear();

    registry.setStale("c1", "API server unreachable");
    registry.reportProblems("file.yaml", List.of(ConfigProblem.warning("file.yaml", null, null, "odd field")));
    registry.update("c1", Map.of(), true); // a relist that found nothing new still marks the cluster synced
    registry.flush();

    assertThat(events).hasSize(3).allSatisfy(c -> assertThat(c.isEmpty()).isTrue());
    MeshSnapshot after = registry.current();
    assertThat(after.version()).isEqualTo(version + 3);
    assertThat(after.clusters().get("c1").stale()).isTrue();
    assertThat(after.problems()).extracting(ConfigProblem::message).containsExactly("odd field");
    // Nothing a proxy sees was rebuilt: the very same maps are shared.
    assertThat(after.services()).isSameAs(before.services());
    assertThat(after.config()).isSameAs(before.config());
    assertThat(after.gateways()).isSameAs(before.gateways());
  }

  @Test
  void aOneHostUpdateSharesEveryOtherHostAndLeavesTheOldSnapshotAsItWas() {
    Registry registry = registry();
    registry.addCluster(new ClusterSettings("c1", "", "istio-system"), true);
    Map<ResourceId, Resource> all = new HashMap<>();
    for (int i = 0; i < 50; i++) {
      String ip = "10.1." + i + ".1";
      all.putAll(byId(parse(service("s" + i, "default", "10.96.1." + i, null, List.of()))));
      all.putAll(byId(parse(slice("s" + i, List.of(ip), true))));
      all.putAll(byId(parse(pod(ip, "s" + i, "v1", "sa"))));
    }
    registry.update("c1", all, true);
    registry.flush();
    MeshSnapshot old = registry.current();
    TreeMap<String, ServiceView> oldCopy = new TreeMap<>(old.services());
    List<WorkloadAt> oldAt = old.endpointsAt("c1", "10.1.7.1");

    registry.update("c1", byId(parse(slice("s7", List.of("10.1.7.1", "10.1.7.2"), true))), false);
    registry.flush();
    MeshSnapshot next = registry.current();

    String changed = "s7.default.svc.cluster.local";
    assertThat(next.service(changed).endpoints()).hasSize(2);
    for (String host : oldCopy.keySet()) {
      if (!host.equals(changed)) assertThat(next.service(host)).isSameAs(old.service(host));
    }
    assertThat(old.services()).isEqualTo(oldCopy);
    assertThat(old.service(changed).endpoints()).hasSize(1);
    assertThat(old.endpointsAt("c1", "10.1.7.1")).isEqualTo(oldAt);
    assertThat(next.endpointsAt("c1", "10.1.7.2")).extracting(w -> w.service().service().hostname())
        .containsExactly(changed);
    assertThat(next.clusters().get("c1").endpoints()).isEqualTo(51);
    assertThat(next.clusters().get("c1").services()).isEqualTo(50);
    assertThatThrownBy(() -> next.services().remove(changed)).isInstanceOf(UnsupportedOperationException.class);
  }

  // ---------------------------------------------------------------------------------------------

  /** What the test has told the registry, to feed a fresh one and to pick the next update. */
  static final class Model {
    final Map<String, ClusterSettings> clusters = new LinkedHashMap<>();
    final Map<String, Boolean> configSource = new HashMap<>();
    final Map<String, Map<ResourceId, Resource>> state = new HashMap<>();
    MeshNetworks meshNetworks = MeshNetworks.empty();

    Registry rebuild(Registry fresh) {
      fresh.setMeshNetworks(meshNetworks);
      clusters.forEach((id, s) -> {
        fresh.addCluster(s, configSource.get(id));
        fresh.update(id, state.get(id), true);
      });
      fresh.flush();
      return fresh;
    }
  }

  static final List<ClusterSettings> SETTINGS = List.of(new ClusterSettings("c1", "net1", "istio-system"),
      new ClusterSettings("c2", "net2", "istio-system"), new ClusterSettings("c3", "net1", "istio-system"));

  @Test
  void randomUpdateSequencesEndWhereARebuildFromScratchDoes() {
    for (long seed = 1; seed <= 6; seed++) checkSequence(seed, 250);
  }

  private void checkSequence(long seed, int steps) {
    Random random = new Random(seed);
    Registry registry = registry();
    Model model = new Model();
    for (ClusterSettings s : SETTINGS) addCluster(registry, model, s);
    record Published(MeshSnapshot snapshot, TreeMap<String, ServiceView> services,
        Map<String, List<NetworkGateway>> gateways, Map<String, List<WorkloadAt>> at) {}
    List<Published> published = new ArrayList<>();
    for (int step = 0; step < steps; step++) {
      String cluster = new ArrayList<>(model.clusters.keySet()).get(random.nextInt(model.clusters.size()));
      int dice = random.nextInt(100);
      if (dice < 3) {
        model.meshNetworks = switch (random.nextInt(4)) {
          case 0 -> MeshNetworks.empty();
          case 1 -> registryGateway("net2", "c2");
          case 2 -> registryGateway("net1", "c3");
          default -> new MeshNetworks(Map.of("net3", new MeshNetworks.Network(
              List.of(new MeshNetworks.EndpointSource("10.0.0.0/30", null)),
              List.of(new MeshNetworks.Gateway("3.3.3.3", null, 443, null)))));
        };
        registry.setMeshNetworks(model.meshNetworks);
      } else if (dice < 5 && model.clusters.size() > 1) {
        registry.removeCluster(cluster);
        model.clusters.remove(cluster);
        model.state.remove(cluster);
      } else if (dice < 8 && model.clusters.size() < SETTINGS.size()) {
        SETTINGS.stream().filter(s -> !model.clusters.containsKey(s.clusterId())).findFirst()
            .ifPresent(s -> addCluster(registry, model, s));
      } else {
        Map<ResourceId, Resource> changes = randomChange(random);
        Map<ResourceId, Resource> state = model.state.get(cluster);
        if (random.nextInt(5) == 0) {
          // A deletion of something this cluster has.
          changes.clear();
          if (!state.isEmpty()) {
            List<ResourceId> ids = new ArrayList<>(state.keySet());
            ids.sort(null);
            changes.put(ids.get(random.nextInt(ids.size())), null);
          }
        }
        changes.forEach((id, r) -> {
          if (r == null) state.remove(id); else state.put(id, r);
        });
        registry.update(cluster, changes, random.nextBoolean());
      }
      if (step % 25 == 24 || step == steps - 1) {
        registry.flush();
        MeshSnapshot s = registry.current();
        assertAgreesWithRebuild(seed, step, s, model.rebuild(registry()).current());
        published.add(new Published(s, new TreeMap<>(s.services()), Map.copyOf(s.gateways()), scanByAddress(s)));
      }
    }
    for (Published p : published) {
      assertThat(p.snapshot().services()).as("seed %d: an old snapshot's services", seed).isEqualTo(p.services());
      assertThat(p.snapshot().gateways()).isEqualTo(p.gateways());
      assertThat(indexOf(p.snapshot())).isEqualTo(p.at());
    }
  }

  private static void addCluster(Registry registry, Model model, ClusterSettings s) {
    boolean config = s.clusterId().equals("c1");
    registry.addCluster(s, config);
    registry.update(s.clusterId(), Map.of(), true); // its source's first listing, empty so far
    model.clusters.put(s.clusterId(), s);
    model.configSource.put(s.clusterId(), config);
    model.state.put(s.clusterId(), new HashMap<>());
  }

  /** One random resource (or a few, as a source's batch) from a small universe, so that updates collide. */
  private static Map<ResourceId, Resource> randomChange(Random random) {
    List<String> ips = new ArrayList<>();
    for (String a : ADDRESSES) if (random.nextInt(3) == 0) ips.add(a);
    String svc = "s" + random.nextInt(4);
    String yaml = switch (random.nextInt(10)) {
      case 0, 1 -> service(svc, "default", "10.96.0." + random.nextInt(3), null, List.of());
      case 2, 3 -> slice(svc, ips, random.nextBoolean());
      case 4 -> pod(ADDRESSES.get(random.nextInt(ADDRESSES.size())), svc, "v" + random.nextInt(2),
          "sa" + random.nextInt(2));
      case 5 -> service("gw", "istio-system", "10.96.9.9", random.nextBoolean() ? "net" + (1 + random.nextInt(2)) : null,
          ips.isEmpty() ? List.of() : List.of("192.0.2." + ips.size()));
      case 6 -> service("eastwest", "istio-system", "10.96.9.8", null,
          random.nextBoolean() ? List.of() : List.of("198.51.100." + random.nextInt(3)));
      case 7 -> systemNamespace(random.nextBoolean() ? null : "net" + (1 + random.nextInt(3)));
      case 8 -> """
          apiVersion: networking.istio.io/v1
          kind: ServiceEntry
          metadata: {name: se-%d, namespace: default}
          spec:
            hosts: [%s.example.com]
            ports: [{number: 80, name: http, protocol: HTTP}]
            resolution: STATIC
            workloadSelector: {labels: {app: %s%s}}
          """.formatted(random.nextInt(2), svc, svc, random.nextBoolean() ? "" : ", version: v1");
      default -> """
          apiVersion: networking.istio.io/v1
          kind: DestinationRule
          metadata: {name: dr, namespace: default}
          spec: {host: %s.default.svc.cluster.local, trafficPolicy: {tls: {mode: %s}}}
          """.formatted(svc, random.nextBoolean() ? "ISTIO_MUTUAL" : "DISABLE");
    };
    return byId(parse(yaml));
  }

  private static void assertAgreesWithRebuild(long seed, int step, MeshSnapshot incremental, MeshSnapshot rebuilt) {
    String at = "seed " + seed + ", step " + step;
    assertThat(incremental.services()).as(at + ": services").isEqualTo(rebuilt.services());
    assertThat(List.copyOf(incremental.services().keySet())).as(at + ": host order")
        .isEqualTo(List.copyOf(rebuilt.services().keySet()));
    assertThat(incremental.gateways()).as(at + ": gateways").isEqualTo(rebuilt.gateways());
    assertThat(indexOf(incremental)).as(at + ": endpointsAt").isEqualTo(scanByAddress(rebuilt))
        .isEqualTo(scanByAddress(incremental));
    assertThat(incremental.config()).as(at + ": config").isEqualTo(rebuilt.config());
    assertThat(incremental.problems()).as(at + ": problems").isEqualTo(rebuilt.problems());
    assertThat(incremental.clusters().keySet()).isEqualTo(rebuilt.clusters().keySet());
    incremental.clusters().forEach((id, status) -> {
      MeshSnapshot.ClusterStatus other = rebuilt.clusters().get(id);
      assertThat(status.services()).as(at + ": hosts of " + id).isEqualTo(other.services());
      assertThat(status.endpoints()).as(at + ": endpoints of " + id).isEqualTo(other.endpoints());
    });
  }

  /** endpointsAt for every address the test uses, through the snapshot's index. */
  private static Map<String, List<WorkloadAt>> indexOf(MeshSnapshot s) {
    Map<String, List<WorkloadAt>> out = new TreeMap<>();
    for (ClusterSettings c : SETTINGS) {
      for (String a : ADDRESSES) {
        List<WorkloadAt> found = s.endpointsAt(c.clusterId(), a);
        if (!found.isEmpty()) out.put(c.clusterId() + " " + a, found);
      }
    }
    return out;
  }

  /** endpointsAt as a scan of the whole service map computes it (how the lazy index was built). */
  private static Map<String, List<WorkloadAt>> scanByAddress(MeshSnapshot s) {
    Map<String, List<WorkloadAt>> out = new TreeMap<>();
    for (ServiceView v : s.services().values()) {
      for (WorkloadEndpoint e : v.endpoints()) {
        out.computeIfAbsent(e.clusterId() + " " + e.address(), k -> new ArrayList<>()).add(new WorkloadAt(v, e));
      }
    }
    return out;
  }
}
