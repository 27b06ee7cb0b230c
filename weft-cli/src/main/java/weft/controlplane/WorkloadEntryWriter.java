package weft.controlplane;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import weft.model.ResourceId;
import weft.model.WorkloadEntry;
import weft.model.WorkloadGroup;
import weft.xds.autoreg.AutoRegistration;

/**
 * Writes auto-registered WorkloadEntries to the config cluster, as istiod does, so that every
 * control plane of the mesh (several primaries, a restarted instance) sees the workloads that
 * joined through one of them. Each entry carries Istio's annotations: the group
 * ({@code istio.io/autoRegistrationGroup}), the control plane holding its proxy
 * ({@code istio.io/workloadController}) and when it connected ({@code istio.io/connectedAt}); its
 * owner is the WorkloadGroup, so Kubernetes deletes it with the group. An entry is deleted at the
 * end of its grace period only while it still names this control plane: a proxy that moved to
 * another one keeps its entry.
 *
 * <p>The object is built from the entry's checked fields only. Writes run in order on one thread
 * of their own, never on a stream's; an API error is logged and the next connection writes again,
 * while the entry keeps serving from memory.
 */
final class WorkloadEntryWriter implements AutoRegistration.Store, AutoCloseable {
  static final String GROUP_ANNOTATION = "istio.io/autoRegistrationGroup";
  static final String CONTROLLER_ANNOTATION = "istio.io/workloadController";
  static final String CONNECTED_AT_ANNOTATION = "istio.io/connectedAt";
  private static final System.Logger LOG = System.getLogger(WorkloadEntryWriter.class.getName());
  private static final ResourceDefinitionContext ENTRIES = context("WorkloadEntry", "workloadentries");
  private static final ResourceDefinitionContext GROUPS = context("WorkloadGroup", "workloadgroups");

  private final KubernetesClient client;
  private final String controller;
  private final Clock clock;
  private final ExecutorService writes = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "weft-workload-entry-writer");
    t.setDaemon(true);
    return t;
  });

  /** @param controller this control plane's name, as other instances see it (its Lease identity) */
  WorkloadEntryWriter(KubernetesClient client, String controller, Clock clock) {
    this.client = client;
    this.controller = controller;
    this.clock = clock;
  }

  private static ResourceDefinitionContext context(String kind, String plural) {
    return new ResourceDefinitionContext.Builder().withGroup("networking.istio.io").withVersion("v1")
        .withKind(kind).withPlural(plural).withNamespaced(true).build();
  }

  @Override
  public void put(WorkloadEntry entry, WorkloadGroup group) {
    Instant connectedAt = clock.instant().truncatedTo(ChronoUnit.SECONDS);
    writes.execute(() -> write(entry, group, connectedAt));
  }

  @Override
  public void remove(ResourceId id) {
    writes.execute(() -> delete(id));
  }

  private void write(WorkloadEntry entry, WorkloadGroup group, Instant connectedAt) {
    ResourceId id = entry.id();
    try {
      GenericKubernetesResource owner = client.genericKubernetesResources(GROUPS).inNamespace(id.namespace())
          .withName(group.id().name()).get();
      GenericKubernetesResource object = object(entry, group, owner, connectedAt);
      var entries = client.genericKubernetesResources(ENTRIES).inNamespace(id.namespace());
      for (int attempt = 0; ; attempt++) {
        GenericKubernetesResource current = entries.withName(id.name()).get();
        try {
          if (current == null) {
            entries.resource(object).create();
          } else {
            // Replaced whole (this control plane holds it now), under the version read: no lost update.
            object.getMetadata().setResourceVersion(current.getMetadata().getResourceVersion());
            entries.resource(object).update();
          }
          break;
        } catch (KubernetesClientException e) {
          if ((e.getCode() != 409 && e.getCode() != 404) || attempt >= 2) throw e;
        }
      }
      LOG.log(System.Logger.Level.DEBUG, "wrote WorkloadEntry " + id.namespace() + "/" + id.name());
    } catch (KubernetesClientException e) {
      LOG.log(System.Logger.Level.WARNING, "cannot write WorkloadEntry " + id.namespace() + "/" + id.name()
          + " to the config cluster (" + e.getCode() + " " + e.getMessage() + "); it serves from this control "
          + "plane's memory, and the proxy's next connection writes it again. The control plane's role needs "
          + "create and update on networking.istio.io workloadentries");
    }
  }

  private void delete(ResourceId id) {
    var resource = client.genericKubernetesResources(ENTRIES).inNamespace(id.namespace()).withName(id.name());
    try {
      GenericKubernetesResource current = resource.get();
      if (current == null) return;
      String holder = current.getMetadata().getAnnotations() == null ? null
          : current.getMetadata().getAnnotations().get(CONTROLLER_ANNOTATION);
      if (!controller.equals(holder)) {
        LOG.log(System.Logger.Level.INFO, "WorkloadEntry " + id.namespace() + "/" + id.name() + " is held by "
            + holder + " now; left in place");
        return;
      }
      resource.lockResourceVersion(current.getMetadata().getResourceVersion()).delete();
    } catch (KubernetesClientException e) {
      // 409: it changed meanwhile (another control plane took it); 404: gone already.
      if (e.getCode() == 409 || e.getCode() == 404) return;
      LOG.log(System.Logger.Level.WARNING, "cannot delete WorkloadEntry " + id.namespace() + "/" + id.name()
          + " from the config cluster (" + e.getCode() + " " + e.getMessage() + ")");
    }
  }

  /** The object to write: the entry's fields, Istio's annotations, and its group as owner when known. */
  GenericKubernetesResource object(WorkloadEntry entry, WorkloadGroup group, GenericKubernetesResource owner,
      Instant connectedAt) {
    ObjectMeta meta = new ObjectMeta();
    meta.setName(entry.id().name());
    meta.setNamespace(entry.id().namespace());
    meta.setLabels(new TreeMap<>(entry.spec().labels()));
    Map<String, String> annotations = new TreeMap<>();
    annotations.put(GROUP_ANNOTATION, group.id().name());
    annotations.put(CONTROLLER_ANNOTATION, controller);
    annotations.put(CONNECTED_AT_ANNOTATION, connectedAt.toString());
    meta.setAnnotations(annotations);
    if (owner != null && owner.getMetadata().getUid() != null) {
      OwnerReference ref = new OwnerReferenceBuilder().withApiVersion("networking.istio.io/v1")
          .withKind("WorkloadGroup").withName(group.id().name()).withUid(owner.getMetadata().getUid())
          .withController(false).build();
      meta.setOwnerReferences(new ArrayList<>(List.of(ref)));
    }
    GenericKubernetesResource object = new GenericKubernetesResource();
    object.setApiVersion("networking.istio.io/v1");
    object.setKind("WorkloadEntry");
    object.setMetadata(meta);
    object.setAdditionalProperty("spec", spec(entry.spec()));
    return object;
  }

  private static Map<String, Object> spec(WorkloadEntry.Spec s) {
    Map<String, Object> spec = new LinkedHashMap<>();
    spec.put("address", s.address());
    if (!s.ports().isEmpty()) spec.put("ports", new TreeMap<>(s.ports()));
    if (!s.labels().isEmpty()) spec.put("labels", new TreeMap<>(s.labels()));
    if (s.network() != null && !s.network().isEmpty()) spec.put("network", s.network());
    if (s.locality() != null && !s.locality().isEmpty()) spec.put("locality", s.locality());
    if (s.weight() > 0) spec.put("weight", s.weight());
    if (s.serviceAccount() != null && !s.serviceAccount().isEmpty()) spec.put("serviceAccount", s.serviceAccount());
    return spec;
  }

  @Override
  public void close() throws InterruptedException {
    writes.shutdown();
    writes.awaitTermination(5, TimeUnit.SECONDS);
  }
}
