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
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import weft.dns.alloc.Allocation;
import weft.dns.alloc.AutoAddress;
import weft.model.ResourceId;
import weft.model.ServiceEntry;
import weft.registry.MeshSnapshot;
import weft.registry.ServiceView;

/**
 * Writes each ServiceEntry's automatic addresses into its {@code status.addresses} (Istio's field:
 * {@code {host, value}} per address), as Istio's leader does, so that a restarted control plane and
 * every other control plane of the config cluster start from the same addresses. Only entries whose
 * status differs are written, and only {@code status.addresses} (a JSON patch that sets that one
 * field, so other status fields stay), never the same list twice while the entry's status has not
 * caught up (the informer's event may trail the write).
 *
 * <p>Used by the one thread of {@link AutoAddressKeeper}.
 */
final class ServiceEntryStatusWriter {
  private static final System.Logger LOG = System.getLogger(ServiceEntryStatusWriter.class.getName());
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ResourceDefinitionContext SERVICE_ENTRIES = new ResourceDefinitionContext.Builder()
      .withGroup("networking.istio.io").withVersion("v1").withKind("ServiceEntry").withPlural("serviceentries")
      .withNamespaced(true).build();

  private final KubernetesClient client;
  /** What was last written per entry, until its status in a snapshot shows it. */
  private final Map<ResourceId, List<ServiceEntry.StatusAddress>> written = new java.util.HashMap<>();

  ServiceEntryStatusWriter(KubernetesClient client) {
    this.client = client;
  }

  void write(MeshSnapshot snapshot, Allocation allocation) {
    Map<ResourceId, ServiceEntry> entries = new LinkedHashMap<>();
    for (ServiceView sv : snapshot.services().values()) {
      ServiceEntry e = sv.service().serviceEntry();
      if (e != null) entries.putIfAbsent(e.id(), e);
    }
    written.keySet().retainAll(entries.keySet());
    for (ServiceEntry e : entries.values()) {
      List<ServiceEntry.StatusAddress> want = desired(e, allocation);
      if (want.equals(e.statusAddresses())) {
        written.remove(e.id());
        continue;
      }
      if (want.equals(written.get(e.id()))) continue;
      try {
        var resource = client.genericKubernetesResources(SERVICE_ENTRIES).inNamespace(e.id().namespace())
            .withName(e.id().name());
        GenericKubernetesResource current = resource.get();
        if (current == null) continue; // deleted meanwhile
        boolean hasStatus = current.getAdditionalProperties().get("status") instanceof Map<?, ?>;
        resource.subresource("status").patch(PatchContext.of(PatchType.JSON), patch(want, hasStatus));
        written.put(e.id(), want);
      } catch (KubernetesClientException ex) {
        // Gone meanwhile, or no permission: the next change tries again; the addresses serve from memory.
        LOG.log(System.Logger.Level.WARNING, "cannot write status.addresses of " + e.id() + ": " + ex.getMessage());
      }
    }
  }

  /** The entry's hosts' addresses in host order, IPv4 before IPv6; empty when it has none. */
  static List<ServiceEntry.StatusAddress> desired(ServiceEntry e, Allocation allocation) {
    List<ServiceEntry.StatusAddress> out = new ArrayList<>();
    for (String host : e.hosts()) {
      AutoAddress a = allocation.of(e.id().namespace(), host);
      if (a == null) continue;
      for (String ip : a.all()) out.add(new ServiceEntry.StatusAddress(host, ip));
    }
    return out;
  }

  /**
   * A JSON patch (RFC 6902) that sets {@code status.addresses}: "add" replaces an existing member,
   * and creates {@code status} itself when the object has none yet.
   */
  private static String patch(List<ServiceEntry.StatusAddress> addresses, boolean hasStatus) {
    ArrayNode list = JSON.createArrayNode();
    for (ServiceEntry.StatusAddress a : addresses) list.addObject().put("value", a.value()).put("host", a.host());
    ObjectNode op = JSON.createObjectNode().put("op", "add");
    if (hasStatus) {
      op.put("path", "/status/addresses").set("value", list);
    } else {
      op.put("path", "/status").putObject("value").set("addresses", list);
    }
    return JSON.createArrayNode().add(op).toString();
  }
}
