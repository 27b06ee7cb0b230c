package weft.controlplane;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import java.time.Clock;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import weft.model.GatewayRoute;
import weft.model.KubernetesGateway;
import weft.model.ResourceId;
import weft.model.gatewayapi.GatewayApiStatus;
import weft.registry.ChangeEvent;
import weft.registry.MeshSnapshot;

/**
 * Writes Gateway API status to the config cluster, as Istio's gateway controller does: each
 * Istio-class Gateway's conditions and listeners (with their attached routes), and in each route
 * the parent entries under Istio's controller name; another controller's parent entries and a
 * Gateway's {@code addresses} are left as they are. A condition keeps its
 * {@code lastTransitionTime} while its status does not change, and carries the object's
 * {@code metadata.generation} as {@code observedGeneration}.
 *
 * <p>Only the leader writes, after the initial sync, on a configuration change; writes run on a
 * thread of their own (the newest request wins). An object whose status is already what it should
 * be is not written; an API error is logged and the next change writes again.
 */
final class GatewayApiStatusWriter implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(GatewayApiStatusWriter.class.getName());
  private static final String GROUP = "gateway.networking.k8s.io";
  private static final Map<String, ResourceDefinitionContext> KINDS = Map.of(
      KubernetesGateway.KIND, context("Gateway", "gateways", "v1"),
      GatewayRoute.HTTP, context(GatewayRoute.HTTP, "httproutes", "v1"),
      GatewayRoute.GRPC, context(GatewayRoute.GRPC, "grpcroutes", "v1"),
      GatewayRoute.TCP, context(GatewayRoute.TCP, "tcproutes", "v1alpha2"),
      GatewayRoute.TLS, context(GatewayRoute.TLS, "tlsroutes", "v1alpha2"));

  private final KubernetesClient client;
  private final Supplier<GatewayApiStatus> status;
  private final BooleanSupplier mayWrite;
  private final Clock clock;
  private final java.util.concurrent.ScheduledExecutorService writes =
      Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "weft-gateway-api-status");
        t.setDaemon(true);
        return t;
      });
  /** How long until a pass that could not write (not the leader yet, not synced, an API error) is tried again. */
  static final long RETRY_SECONDS = 5;
  private final AtomicBoolean pending = new AtomicBoolean();
  /** What was last written per object (as JSON-ready maps, times left out), until it shows on the server. */
  private final Map<ResourceId, Object> written = new HashMap<>();
  private MeshSnapshot.MeshConfiguration lastConfig;

  GatewayApiStatusWriter(KubernetesClient client, Supplier<GatewayApiStatus> status, BooleanSupplier mayWrite,
      Clock clock) {
    this.client = client;
    this.status = status;
    this.mayWrite = mayWrite;
    this.clock = clock;
  }

  private static ResourceDefinitionContext context(String kind, String plural, String version) {
    return new ResourceDefinitionContext.Builder().withGroup(GROUP).withVersion(version).withKind(kind)
        .withPlural(plural).withNamespaced(true).build();
  }

  /** A registry listener: a configuration change asks for a write pass (coalesced). */
  void onSnapshot(MeshSnapshot snapshot, ChangeEvent change) {
    synchronized (this) {
      if (snapshot.config() == lastConfig && !change.full()) return;
      lastConfig = snapshot.config();
    }
    requestPass();
  }

  /** Asks for one more pass; passes already asked for and not started are merged into it. */
  void requestPass() {
    if (pending.compareAndSet(false, true)) writes.execute(this::pass);
  }

  private void pass() {
    pending.set(false);
    try {
      writeAll();
    } catch (RuntimeException e) {
      // A bug must not stop status for good: say so, and try again.
      LOG.log(System.Logger.Level.ERROR, "writing Gateway API status failed; tried again in " + RETRY_SECONDS + " s", e);
      writes.schedule(this::requestPass, RETRY_SECONDS, TimeUnit.SECONDS);
    }
  }

  private void writeAll() {
    GatewayApiStatus s = status.get();
    if (s.gateways().isEmpty() && s.routes().isEmpty()) return;
    if (!mayWrite.getAsBoolean()) {
      // Owed: the leader writes once it leads and has synced; ask again until then.
      writes.schedule(this::requestPass, RETRY_SECONDS, TimeUnit.SECONDS);
      return;
    }
    boolean failed = false;
    for (var e : s.gateways().entrySet()) failed |= !write(e.getKey(), current -> gatewayStatus(e.getValue(), current));
    for (var e : s.routes().entrySet()) failed |= !write(e.getKey(), current -> routeStatus(e.getValue(), current));
    written.keySet().retainAll(new java.util.HashSet<>(ids(s)));
    if (failed) writes.schedule(this::requestPass, RETRY_SECONDS, TimeUnit.SECONDS);
  }

  private static List<ResourceId> ids(GatewayApiStatus s) {
    List<ResourceId> out = new ArrayList<>(s.gateways().keySet());
    out.addAll(s.routes().keySet());
    return out;
  }

  @FunctionalInterface
  private interface StatusOf {
    Map<String, Object> of(GenericKubernetesResource current);
  }

  /** Writes one object's status if it differs; false when the API server refused or failed. */
  private boolean write(ResourceId id, StatusOf desired) {
    ResourceDefinitionContext kind = KINDS.get(id.kind());
    if (kind == null) return true;
    var resource = client.genericKubernetesResources(kind).inNamespace(id.namespace()).withName(id.name());
    try {
      GenericKubernetesResource current = resource.get();
      if (current == null) return true; // deleted meanwhile
      Object want = normalized(desired.of(current));
      if (want.equals(normalized(current.getAdditionalProperties().get("status")))) {
        written.remove(id);
        return true;
      }
      if (want.equals(written.get(id))) return true; // written; the informer has not shown it yet
      // The whole status, built from the object's own (other controllers' entries and addresses kept):
      // a JSON patch "add" replaces it, where a merge patch's handling of lists varies between servers.
      resource.subresource("status").patch(PatchContext.of(PatchType.JSON),
          io.fabric8.kubernetes.client.utils.Serialization.asJson(List.of(
              Map.of("op", "add", "path", "/status", "value", want))));
      written.put(id, want);
      return true;
    } catch (KubernetesClientException e) {
      LOG.log(System.Logger.Level.WARNING, "cannot write the status of " + id + " (" + e.getCode() + " "
          + e.getMessage() + "); tried again in " + RETRY_SECONDS + " s. The control plane's role needs patch on "
          + kind.getPlural() + "/status");
      return false;
    }
  }

  private Map<String, Object> gatewayStatus(GatewayApiStatus.GatewayStatus g, GenericKubernetesResource current) {
    long generation = generation(current);
    Map<String, Object> old = map(current.getAdditionalProperties().get("status"));
    Map<String, Object> out = new LinkedHashMap<>(old);
    out.put("conditions", conditions(g.conditions(), list(old.get("conditions")), generation));
    Map<String, List<Object>> oldListeners = new HashMap<>();
    for (Object l : list(old.get("listeners"))) {
      Map<String, Object> m = map(l);
      oldListeners.put(String.valueOf(m.get("name")), list(m.get("conditions")));
    }
    List<Object> listeners = new ArrayList<>();
    for (GatewayApiStatus.ListenerStatus l : g.listeners()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", l.name());
      List<Object> kinds = new ArrayList<>();
      for (String k : l.supportedKinds()) kinds.add(new LinkedHashMap<>(Map.of("group", GROUP, "kind", k)));
      m.put("supportedKinds", kinds);
      m.put("attachedRoutes", l.attachedRoutes());
      m.put("conditions", conditions(l.conditions(), oldListeners.getOrDefault(l.name(), List.of()), generation));
      listeners.add(m);
    }
    out.put("listeners", listeners);
    return out;
  }

  private Map<String, Object> routeStatus(List<GatewayApiStatus.ParentStatus> parents,
      GenericKubernetesResource current) {
    long generation = generation(current);
    Map<String, Object> old = map(current.getAdditionalProperties().get("status"));
    List<Object> out = new ArrayList<>();
    Map<String, List<Object>> ours = new HashMap<>();
    for (Object p : list(old.get("parents"))) {
      Map<String, Object> m = map(p);
      if (GatewayApiStatus.CONTROLLER.equals(m.get("controllerName"))) {
        ours.put(String.valueOf(map(m.get("parentRef")).get("name")) + "/" + map(m.get("parentRef")).get("sectionName"),
            list(m.get("conditions")));
      } else {
        out.add(p); // another controller's entry
      }
    }
    for (GatewayApiStatus.ParentStatus p : parents) {
      GatewayRoute.ParentRef ref = p.parentRef();
      Map<String, Object> parentRef = new LinkedHashMap<>();
      parentRef.put("group", ref.group());
      parentRef.put("kind", ref.kind());
      parentRef.put("name", ref.name());
      parentRef.put("namespace", ref.namespace());
      if (ref.sectionName() != null) parentRef.put("sectionName", ref.sectionName());
      if (ref.port() != 0) parentRef.put("port", ref.port());
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("parentRef", parentRef);
      m.put("controllerName", GatewayApiStatus.CONTROLLER);
      m.put("conditions", conditions(p.conditions(), ours.getOrDefault(ref.name() + "/" + ref.sectionName(),
          List.of()), generation));
      out.add(m);
    }
    Map<String, Object> status = new LinkedHashMap<>(old);
    status.put("parents", out);
    return status;
  }

  /** Conditions as the API writes them; one whose status is unchanged keeps its transition time. */
  private List<Object> conditions(List<GatewayApiStatus.Condition> conditions, List<Object> old, long generation) {
    Map<String, Map<String, Object>> before = new HashMap<>();
    for (Object o : old) before.put(String.valueOf(map(o).get("type")), map(o));
    String now = clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
    List<Object> out = new ArrayList<>();
    for (GatewayApiStatus.Condition c : conditions) {
      String status = c.status() ? "True" : "False";
      Map<String, Object> prior = before.get(c.type());
      Object since = prior != null && status.equals(prior.get("status")) && prior.get("lastTransitionTime") != null
          ? prior.get("lastTransitionTime") : now;
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("type", c.type());
      m.put("status", status);
      m.put("reason", c.reason());
      m.put("message", c.message() == null ? "" : c.message());
      m.put("observedGeneration", generation);
      m.put("lastTransitionTime", since);
      out.add(m);
    }
    return out;
  }

  private static long generation(GenericKubernetesResource r) {
    Long g = r.getMetadata() == null ? null : r.getMetadata().getGeneration();
    return g == null ? 0 : g;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
  }

  @SuppressWarnings("unchecked")
  private static List<Object> list(Object o) {
    return o instanceof List<?> l ? (List<Object>) l : List.of();
  }

  /** A status as JSON reads it back (numbers of one type), so that what is written compares with what is read. */
  private static Object normalized(Object status) {
    if (status == null) return Map.of();
    return io.fabric8.kubernetes.client.utils.Serialization.unmarshal(
        io.fabric8.kubernetes.client.utils.Serialization.asJson(status), Map.class);
  }

  @Override
  public void close() throws InterruptedException {
    writes.shutdownNow();
    writes.awaitTermination(5, TimeUnit.SECONDS);
  }
}
