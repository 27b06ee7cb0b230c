package weft.xds.autoreg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.model.Resource;
import weft.model.ResourceId;
import weft.model.WorkloadEntry;
import weft.model.parse.ParsedFile;
import weft.model.parse.ResourceParser;
import weft.registry.ClusterSettings;
import weft.registry.Locality;
import weft.registry.Registry;
import weft.registry.ServiceView;
import weft.security.SpiffeId;
import weft.security.auth.VerifiedCaller;
import weft.xds.proxy.Proxy;

/**
 * Auto-registration against a real registry: the entry is the group's template with the proxy's
 * address and labels, its endpoint appears in the service that selects it, it goes a grace period
 * after the last stream closes, and a caller of another identity, a missing group or an unverified
 * client is refused.
 */
class AutoRegistrationTest {
  static final String HOST = "reviews.bookinfo.svc.cluster.local";
  static final String YAML = """
      apiVersion: v1
      kind: Service
      metadata: {name: reviews, namespace: bookinfo}
      spec:
        clusterIP: 10.96.1.1
        ports: [{name: grpc, port: 9080, targetPort: 9080}]
        selector: {app: reviews}
      ---
      apiVersion: networking.istio.io/v1
      kind: WorkloadGroup
      metadata: {name: reviews-vm, namespace: bookinfo}
      spec:
        metadata: {labels: {app: reviews, version: v3}}
        template:
          serviceAccount: reviews
          ports: {grpc: 9090}
          network: vm-network
      """;
  static final VerifiedCaller REVIEWS = new VerifiedCaller(new SpiffeId("cluster.local", "bookinfo", "reviews"),
      VerifiedCaller.Method.CERTIFICATE, "");

  final Registry registry = new Registry();
  final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

  AutoRegistrationTest() {
    registry.addCluster(new ClusterSettings("cluster1", "network1", "istio-system"), true);
    ParsedFile f = ResourceParser.parse("t.yaml", YAML);
    assertThat(f.problems()).isEmpty();
    Map<ResourceId, Resource> changes = new HashMap<>();
    f.resources().forEach(r -> changes.put(r.id(), r));
    registry.update("cluster1", changes, true);
    registry.flush();
  }

  @AfterEach
  void stop() {
    scheduler.shutdownNow();
    registry.close();
  }

  static Proxy vm(String ip, String namespace, Map<String, String> labels) {
    return new Proxy("sidecar~" + ip + "~vm-1." + namespace + "~" + namespace + ".svc.cluster.local", "sidecar", ip,
        "vm-1", namespace, "cluster1", "", labels, "reviews", new Locality("us-east", "a", ""), true,
        namespace + ".svc.cluster.local");
  }

  List<String> addresses() {
    registry.flush();
    ServiceView v = registry.current().service(HOST);
    return v == null ? List.of() : v.endpoints().stream().map(e -> e.address()).toList();
  }

  @Test
  void aVerifiedWorkloadJoinsItsGroupAndIsRemovedAfterTheGracePeriod() {
    AutoRegistration a = new AutoRegistration(registry, "cluster1", Duration.ZERO, scheduler);
    Object stream = new Object();
    assertThat(a.register(stream, vm("10.2.0.7", "bookinfo", Map.of("zone", "z1")), REVIEWS, "reviews-vm",
        registry.current())).isNull();
    assertThat(addresses()).containsExactly("10.2.0.7");
    WorkloadEntry e = a.entries().get(0);
    assertThat(e.id()).isEqualTo(new ResourceId("WorkloadEntry", "bookinfo", "reviews-vm-10.2.0.7"));
    assertThat(e.spec().labels()).containsEntry("app", "reviews").containsEntry("version", "v3")
        .containsEntry("zone", "z1").containsEntry(AutoRegistration.GROUP_LABEL, "reviews-vm");
    assertThat(e.spec().ports()).containsEntry("grpc", 9090);
    assertThat(e.spec().network()).isEqualTo("vm-network");
    assertThat(e.spec().locality()).isEqualTo("us-east/a/");
    assertThat(e.spec().serviceAccount()).isEqualTo("reviews");

    a.disconnected(stream);
    await().atMost(Duration.ofSeconds(30)).until(() -> addresses().isEmpty());
    assertThat(a.entries()).isEmpty();
  }

  @Test
  void withAStoreTheStoreIsTheTruthAndTheRegistryIsNotFedFromMemory() {
    List<String> calls = new java.util.concurrent.CopyOnWriteArrayList<>();
    AutoRegistration a = new AutoRegistration(registry, "cluster1", Duration.ZERO, scheduler);
    // The config cluster in Kubernetes mode: what it holds reaches the registry through its watch.
    a.store(new AutoRegistration.Store() {
      @Override
      public void put(WorkloadEntry entry, weft.model.WorkloadGroup group) {
        calls.add("put " + entry.id().name() + " of " + group.id().name());
      }

      @Override
      public void remove(ResourceId id) {
        calls.add("remove " + id.name());
      }
    });
    Object first = new Object();
    Object second = new Object();
    Proxy p = vm("10.2.0.9", "bookinfo", Map.of());
    assertThat(a.register(first, p, REVIEWS, "reviews-vm", registry.current())).isNull();
    // Every connection writes (it names the control plane that holds the proxy now).
    assertThat(a.register(second, p, REVIEWS, "reviews-vm", registry.current())).isNull();
    assertThat(calls).containsExactly("put reviews-vm-10.2.0.9 of reviews-vm", "put reviews-vm-10.2.0.9 of reviews-vm");
    assertThat(addresses()).isEmpty();
    // The second stream still holds it: nothing is removed.
    a.disconnected(first);
    assertThat(a.entries()).hasSize(1);
    a.disconnected(second);
    await().atMost(Duration.ofSeconds(30)).until(() -> calls.contains("remove reviews-vm-10.2.0.9"));
    assertThat(a.entries()).isEmpty();
    assertThat(calls).hasSize(3);
  }

  @Test
  void aProxyThatReconnectsWithinTheGracePeriodKeepsItsEntry() {
    AutoRegistration a = new AutoRegistration(registry, "cluster1", Duration.ofHours(1), scheduler);
    Object first = new Object();
    Object second = new Object();
    Proxy p = vm("10.2.0.8", "bookinfo", Map.of());
    assertThat(a.register(first, p, REVIEWS, "reviews-vm", registry.current())).isNull();
    a.disconnected(first);
    assertThat(a.register(second, p, REVIEWS, "reviews-vm", registry.current())).isNull();
    assertThat(addresses()).containsExactly("10.2.0.8");
    assertThat(a.entries()).hasSize(1);
  }

  @Test
  void anotherIdentityAMissingGroupAndAnUnverifiedClientAreRefused() {
    AutoRegistration a = new AutoRegistration(registry, "cluster1", Duration.ZERO, scheduler);
    VerifiedCaller ratings = new VerifiedCaller(new SpiffeId("cluster.local", "bookinfo", "ratings"),
        VerifiedCaller.Method.TOKEN, "");
    Proxy p = vm("10.2.0.9", "bookinfo", Map.of());
    assertThat(a.register(new Object(), p, ratings, "reviews-vm", registry.current()))
        .contains("ratings").contains("may only join a group of its own identity");
    assertThat(a.register(new Object(), p, REVIEWS, "no-such-group", registry.current())).contains("does not exist");
    assertThat(a.register(new Object(), p, null, "reviews-vm", registry.current())).contains("verified client");
    assertThat(a.register(new Object(), p, REVIEWS, "Bad\nName", registry.current())).contains("not a WorkloadGroup");
    assertThat(a.register(new Object(), vm("vm.example.com", "bookinfo", Map.of()), REVIEWS, "reviews-vm",
        registry.current())).contains("not an IP address");
    assertThat(addresses()).isEmpty();
    assertThat(a.entries()).isEmpty();
  }
}
