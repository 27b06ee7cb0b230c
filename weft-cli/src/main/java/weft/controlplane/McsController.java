package weft.controlplane;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import weft.dns.alloc.AutoAddress;
import weft.registry.ChangeEvent;
import weft.registry.McsExportStatus;
import weft.registry.MeshService;
import weft.registry.MeshSnapshot;
import weft.registry.ServiceView;
import weft.xds.Generators;

/**
 * {@code --mcs-controller}: Weft acting as the MCS controller of KEP-1645. On the leader only, after
 * each snapshot:
 * <ul>
 *   <li>every cluster gets a ServiceImport for each clusterset host, with its type, ports and VIP (the
 *       VIP a ServiceImport already gives, else the address Weft allocated), so that Kubernetes-side
 *       tools (and Weft after a restart) see the same address;</li>
 *   <li>every ServiceExport gets the {@code Valid} and {@code Conflict} conditions the registry judged.</li>
 * </ul>
 * Only what differs from the last write is written; ServiceImports Weft wrote for a host that is gone
 * are deleted (those it did not write, labelled otherwise, are never touched).
 *
 * <p>The registry thread only hands the newest snapshot over; one thread of its own writes.
 */
final class McsController implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(McsController.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();
  static final String MANAGED_BY = "app.kubernetes.io/managed-by";
  static final String WEFT = "weft";
  static final ResourceDefinitionContext SERVICE_IMPORTS = context("ServiceImport", "serviceimports");
  static final ResourceDefinitionContext SERVICE_EXPORTS = context("ServiceExport", "serviceexports");

  private final Generators generators;
  private final Supplier<Map<String, KubernetesClient>> clients;
  private final BooleanSupplier leader;
  private final AtomicReference<MeshSnapshot> next = new AtomicReference<>();
  private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "weft-mcs-controller");
    t.setDaemon(true);
    return t;
  });
  /** Touched by the worker only: cluster → "ns/name" → the ServiceImport spec last written there. */
  private final Map<String, Map<String, ObjectNode>> importsWritten = new HashMap<>();
  /** Touched by the worker only: cluster → "ns/name" → the export status last written there. */
  private final Map<String, Map<String, McsExportStatus>> statusWritten = new HashMap<>();

  /**
   * @param clients every cluster's API client by cluster id, asked at each write (clusters come and go)
   * @param leader whether this instance may write now
   */
  McsController(Generators generators, Supplier<Map<String, KubernetesClient>> clients, BooleanSupplier leader) {
    this.generators = generators;
    this.clients = clients;
    this.leader = leader;
  }

  private static ResourceDefinitionContext context(String kind, String plural) {
    return new ResourceDefinitionContext.Builder().withGroup("multicluster.x-k8s.io").withVersion("v1alpha1")
        .withKind(kind).withPlural(plural).withNamespaced(true).build();
  }

  /** A snapshot listener: runs on the registry thread, so it only hands the snapshot over. */
  void onSnapshot(MeshSnapshot snapshot, ChangeEvent change) {
    if (next.getAndSet(snapshot) != null) return;
    try {
      worker.execute(this::drain);
    } catch (java.util.concurrent.RejectedExecutionException closed) {
      next.set(null);
    }
  }

  private void drain() {
    MeshSnapshot s = next.getAndSet(null);
    if (s == null || !leader.getAsBoolean()) return;
    try {
      write(s);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.ERROR, "MCS controller: writing for snapshot " + s.version() + " failed; the next "
          + "change tries again", e);
    }
  }

  private void write(MeshSnapshot snapshot) {
    Map<String, ObjectNode> wanted = desiredImports(snapshot);
    Map<String, KubernetesClient> all = clients.get();
    importsWritten.keySet().retainAll(all.keySet());
    statusWritten.keySet().retainAll(all.keySet());
    for (Map.Entry<String, KubernetesClient> c : new java.util.TreeMap<>(all).entrySet()) {
      writeImports(c.getKey(), c.getValue(), wanted);
    }
    Map<String, List<McsExportStatus>> byCluster = new HashMap<>();
    for (McsExportStatus s : snapshot.mcsExports()) byCluster.computeIfAbsent(s.clusterId(), k -> new ArrayList<>()).add(s);
    byCluster.forEach((cluster, statuses) -> {
      KubernetesClient client = all.get(cluster);
      if (client != null) writeStatuses(cluster, client, statuses);
    });
  }

  /** "ns/name" → the ServiceImport spec every cluster should have. */
  private Map<String, ObjectNode> desiredImports(MeshSnapshot snapshot) {
    Map<String, ObjectNode> out = new LinkedHashMap<>();
    var allocation = generators.context(snapshot).autoAddresses();
    for (ServiceView sv : snapshot.services().values()) {
      MeshService s = sv.service();
      if (s.mcs() == null || !s.mcs().clustersetHost()) continue;
      ObjectNode spec = JSON.createObjectNode();
      spec.put("type", s.mcs().headless() ? "Headless" : "ClusterSetIP");
      ArrayNode ips = spec.putArray("ips");
      if (!s.mcs().headless()) {
        String vip = new java.util.TreeMap<>(s.addresses()).values().stream().findFirst().orElse(null);
        if (vip != null) {
          ips.add(vip);
        } else {
          AutoAddress a = allocation.of(s.namespace(), s.hostname());
          if (a != null && a.ipv4() != null) ips.add(a.ipv4());
        }
      }
      ArrayNode ports = spec.putArray("ports");
      for (MeshService.Port p : s.ports()) {
        ObjectNode port = ports.addObject();
        if (!p.name().isEmpty()) port.put("name", p.name());
        port.put("port", p.number());
        port.put("protocol", kubernetesProtocol(p.protocol()));
      }
      out.put(s.namespace() + "/" + s.name(), spec);
    }
    return out;
  }

  /** Kubernetes' transport protocol of a port whose mesh protocol may be an application one (GRPC, HTTP). */
  private static String kubernetesProtocol(String protocol) {
    return protocol != null && (protocol.equals("UDP") || protocol.equals("SCTP")) ? protocol : "TCP";
  }

  private void writeImports(String cluster, KubernetesClient client, Map<String, ObjectNode> wanted) {
    Map<String, ObjectNode> written = importsWritten.computeIfAbsent(cluster, k -> new HashMap<>());
    for (Map.Entry<String, ObjectNode> e : wanted.entrySet()) {
      if (e.getValue().equals(written.get(e.getKey()))) continue;
      String[] nsName = e.getKey().split("/", 2);
      try {
        var resource = client.genericKubernetesResources(SERVICE_IMPORTS).inNamespace(nsName[0]).withName(nsName[1]);
        GenericKubernetesResource current = resource.get();
        if (current != null && !WEFT.equals(labels(current).get(MANAGED_BY))) {
          // Another controller owns it: its VIP is the one Weft reads; never overwritten.
          written.put(e.getKey(), e.getValue());
          continue;
        }
        GenericKubernetesResource desired = new GenericKubernetesResource();
        desired.setApiVersion("multicluster.x-k8s.io/v1alpha1");
        desired.setKind("ServiceImport");
        desired.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(nsName[1])
            .withNamespace(nsName[0]).addToLabels(MANAGED_BY, WEFT).build());
        desired.setAdditionalProperty("spec", JSON.convertValue(e.getValue(), Map.class));
        if (current == null) {
          client.genericKubernetesResources(SERVICE_IMPORTS).inNamespace(nsName[0]).resource(desired).create();
        } else {
          desired.getMetadata().setResourceVersion(current.getMetadata().getResourceVersion());
          client.genericKubernetesResources(SERVICE_IMPORTS).inNamespace(nsName[0]).resource(desired).update();
        }
        written.put(e.getKey(), e.getValue());
      } catch (KubernetesClientException ex) {
        LOG.log(System.Logger.Level.WARNING, "MCS controller: cannot write ServiceImport " + e.getKey() + " in cluster "
            + cluster + ": " + ex.getMessage() + "; the next change tries again");
      }
    }
    for (String gone : new ArrayList<>(written.keySet())) {
      if (wanted.containsKey(gone)) continue;
      String[] nsName = gone.split("/", 2);
      try {
        var resource = client.genericKubernetesResources(SERVICE_IMPORTS).inNamespace(nsName[0]).withName(nsName[1]);
        GenericKubernetesResource current = resource.get();
        if (current != null && WEFT.equals(labels(current).get(MANAGED_BY))) resource.delete();
        written.remove(gone);
      } catch (KubernetesClientException ex) {
        LOG.log(System.Logger.Level.WARNING, "MCS controller: cannot delete ServiceImport " + gone + " in cluster "
            + cluster + ": " + ex.getMessage());
      }
    }
  }

  private static Map<String, String> labels(GenericKubernetesResource r) {
    Map<String, String> l = r.getMetadata() == null ? null : r.getMetadata().getLabels();
    return l == null ? Map.of() : l;
  }

  private void writeStatuses(String cluster, KubernetesClient client, List<McsExportStatus> statuses) {
    Map<String, McsExportStatus> written = statusWritten.computeIfAbsent(cluster, k -> new HashMap<>());
    for (McsExportStatus s : statuses) {
      String key = s.namespace() + "/" + s.name();
      if (s.equals(written.get(key))) continue;
      try {
        var resource = client.genericKubernetesResources(SERVICE_EXPORTS).inNamespace(s.namespace()).withName(s.name());
        GenericKubernetesResource current = resource.get();
        if (current == null) continue; // deleted meanwhile
        boolean hasStatus = current.getAdditionalProperties().get("status") instanceof Map<?, ?>;
        resource.subresource("status").patch(PatchContext.of(PatchType.JSON), patch(s, hasStatus));
        written.put(key, s);
      } catch (KubernetesClientException ex) {
        LOG.log(System.Logger.Level.WARNING, "MCS controller: cannot write the status of ServiceExport " + key
            + " in cluster " + cluster + ": " + ex.getMessage() + "; the next change tries again");
      }
    }
  }

  /** KEP-1645's conditions as a JSON patch that sets {@code status.conditions} (and {@code status} when absent). */
  static String patch(McsExportStatus s, boolean hasStatus) {
    String now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
    ArrayNode conditions = JSON.createArrayNode();
    conditions.addObject().put("type", "Valid").put("status", s.valid() ? "True" : "False")
        .put("reason", s.valid() ? "ServiceExported" : s.invalidReason())
        .put("message", s.valid() ? "the Service is exported to the clusterset" : s.message())
        .put("lastTransitionTime", now);
    conditions.addObject().put("type", "Conflict").put("status", s.conflict() == null ? "False" : "True")
        .put("reason", s.conflict() == null ? "NoConflicts" : "PortConflict")
        .put("message", s.conflict() == null ? "no conflicting definitions across exporting clusters" : s.conflict())
        .put("lastTransitionTime", now);
    ObjectNode op = JSON.createObjectNode().put("op", "add");
    if (hasStatus) {
      op.put("path", "/status/conditions").set("value", conditions);
    } else {
      op.put("path", "/status").putObject("value").set("conditions", conditions);
    }
    return JSON.createArrayNode().add(op).toString();
  }

  /** Waits until every snapshot handed over so far has been written (tests). */
  void flush() throws Exception {
    worker.submit(() -> { }).get();
  }

  @Override
  public void close() {
    next.set(null);
    worker.shutdown();
    try {
      if (!worker.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS)) worker.shutdownNow();
    } catch (InterruptedException e) {
      worker.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
