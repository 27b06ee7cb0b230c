package weft.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import weft.model.ResourceId;
import weft.model.WorkloadEntry;
import weft.model.WorkloadGroup;

/**
 * Auto-registered WorkloadEntries written to a config cluster (fabric8's CRUD API server) as istiod
 * writes them: Istio's annotations, the group as owner, taken over by the control plane the proxy
 * moved to, and deleted only by the control plane that holds it.
 */
class WorkloadEntryWriterTest {
  static final Duration PATIENCE = Duration.ofSeconds(60);
  static final Clock CLOCK = Clock.fixed(Instant.parse("2026-12-02T10:00:00.400Z"), ZoneOffset.UTC);
  static final ResourceDefinitionContext ENTRIES = context("WorkloadEntry", "workloadentries");
  static final ResourceDefinitionContext GROUPS = context("WorkloadGroup", "workloadgroups");
  static final WorkloadEntry.Spec TEMPLATE = new WorkloadEntry.Spec("", Map.of("grpc", 9090), Map.of("app", "reviews"),
      "vm-network", "", 0, "reviews");
  static final WorkloadGroup GROUP = new WorkloadGroup(new ResourceId("WorkloadGroup", "bookinfo", "reviews-vm"),
      Map.of("app", "reviews"), Map.of(), TEMPLATE, false);
  static final WorkloadEntry ENTRY = new WorkloadEntry(
      new ResourceId("WorkloadEntry", "bookinfo", "reviews-vm-10.2.0.7"),
      new WorkloadEntry.Spec("10.2.0.7", Map.of("grpc", 9090), Map.of("app", "reviews",
          "istio.io/autoRegistrationGroup", "reviews-vm"), "vm-network", "us-east/a/", 0, "reviews"));

  KubernetesMockServer server;
  NamespacedKubernetesClient client;

  static ResourceDefinitionContext context(String kind, String plural) {
    return new ResourceDefinitionContext.Builder().withGroup("networking.istio.io").withVersion("v1")
        .withKind(kind).withPlural(plural).withNamespaced(true).build();
  }

  @BeforeEach
  void start() {
    server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
        new KubernetesCrudDispatcher(), false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    client = server.createClient();
  }

  @AfterEach
  void stop() {
    client.close();
    server.destroy();
  }

  private GenericKubernetesResource entry() {
    return client.genericKubernetesResources(ENTRIES).inNamespace("bookinfo").withName(ENTRY.id().name()).get();
  }

  private String holder() {
    GenericKubernetesResource e = entry();
    return e == null ? null : e.getMetadata().getAnnotations().get(WorkloadEntryWriter.CONTROLLER_ANNOTATION);
  }

  @Test
  void anEntryIsWrittenWithIstiosAnnotationsItsGroupAsOwnerAndOnlyItsHolderDeletesIt() throws Exception {
    GenericKubernetesResource group = new GenericKubernetesResource();
    group.setApiVersion("networking.istio.io/v1");
    group.setKind("WorkloadGroup");
    group.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("reviews-vm")
        .withNamespace("bookinfo").build());
    // The API server gives the group its uid, which the owner reference must name.
    String uid = client.genericKubernetesResources(GROUPS).inNamespace("bookinfo").resource(group).create()
        .getMetadata().getUid();
    assertThat(uid).isNotBlank();

    try (WorkloadEntryWriter a = new WorkloadEntryWriter(client, "weft-a", CLOCK);
        WorkloadEntryWriter b = new WorkloadEntryWriter(client, "weft-b", CLOCK)) {
      a.put(ENTRY, GROUP);
      await().atMost(PATIENCE).until(() -> entry() != null);
      GenericKubernetesResource written = entry();
      assertThat(written.getMetadata().getAnnotations())
          .containsEntry("istio.io/autoRegistrationGroup", "reviews-vm")
          .containsEntry("istio.io/workloadController", "weft-a")
          .containsEntry("istio.io/connectedAt", "2026-12-02T10:00:00Z");
      assertThat(written.getMetadata().getLabels()).containsEntry("app", "reviews");
      assertThat(written.getMetadata().getOwnerReferences()).singleElement().satisfies(o -> {
        assertThat(o.getKind()).isEqualTo("WorkloadGroup");
        assertThat(o.getName()).isEqualTo("reviews-vm");
        assertThat(o.getUid()).isEqualTo(uid);
      });
      @SuppressWarnings("unchecked")
      Map<String, Object> spec = (Map<String, Object>) written.getAdditionalProperties().get("spec");
      assertThat(spec).containsEntry("address", "10.2.0.7").containsEntry("network", "vm-network")
          .containsEntry("locality", "us-east/a/").containsEntry("serviceAccount", "reviews")
          .containsEntry("ports", Map.of("grpc", 9090));

      // The proxy moved to control plane B, which takes the entry over.
      b.put(ENTRY, GROUP);
      await().atMost(PATIENCE).until(() -> "weft-b".equals(holder()));
      // A's grace period ends: the entry is B's now and stays. Writes run in order, so a later
      // write from A shows that A's removal has run.
      a.remove(ENTRY.id());
      WorkloadEntry marker = new WorkloadEntry(new ResourceId("WorkloadEntry", "bookinfo", "marker"), ENTRY.spec());
      a.put(marker, GROUP);
      await().atMost(PATIENCE).until(() -> client.genericKubernetesResources(ENTRIES).inNamespace("bookinfo")
          .withName("marker").get() != null);
      assertThat(holder()).isEqualTo("weft-b");
      // B's grace period ends: it deletes what it holds.
      b.remove(ENTRY.id());
      await().atMost(PATIENCE).until(() -> entry() == null);
    }
  }

  @Test
  void withoutItsGroupInTheClusterTheEntryIsWrittenWithoutOwner() throws Exception {
    try (WorkloadEntryWriter a = new WorkloadEntryWriter(client, "weft-a", CLOCK)) {
      a.put(ENTRY, GROUP);
      await().atMost(PATIENCE).until(() -> entry() != null);
      assertThat(entry().getMetadata().getOwnerReferences()).isNullOrEmpty();
      // Written again on the next connection: the same object, replaced in place.
      a.put(ENTRY, GROUP);
      a.remove(ENTRY.id());
      await().atMost(PATIENCE).until(() -> entry() == null);
    }
  }
}
