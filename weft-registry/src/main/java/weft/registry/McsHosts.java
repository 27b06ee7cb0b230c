package weft.registry;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import weft.model.ConfigProblem;
import weft.model.K8sService;
import weft.model.ResourceId;
import weft.model.ServiceExport;
import weft.model.ServiceImport;

/**
 * Builds {@code NAME.NS.svc.clusterset.local} (KEP-1645) from what each cluster has: a pure function
 * of the clusters' ServiceExports, Services, endpoints and ServiceImports.
 *
 * <ul>
 *   <li>A ServiceExport whose Service is missing (or is an ExternalName) is not {@code Valid} and
 *       exports nothing.</li>
 *   <li>The endpoints are those of every cluster with a valid export, and of no other cluster.</li>
 *   <li>Ports come from the cluster whose ServiceExport is the oldest (creationTimestamp, then cluster
 *       id), as the KEP resolves conflicts; every export whose Service defines its ports otherwise is
 *       in {@code Conflict}, and each conflict is a finding.</li>
 *   <li>The VIP a cluster's clients know the host by is the first address of the ServiceImport in
 *       that cluster; with none anywhere the push side allocates one (see the name tables).</li>
 * </ul>
 */
final class McsHosts {
  static final String SERVICE_NOT_FOUND = "ServiceNotFound";
  static final String TYPE_NOT_SUPPORTED = "ServiceTypeNotSupported";
  static final String PORT_CONFLICT = "PortConflict";

  private McsHosts() {}

  /** What one cluster holds for the name: any of the parts may be null. */
  record Member(String clusterId, ServiceExport export, K8sService service, ServiceView local,
      ServiceImport imported) {}

  /**
   * @param view the clusterset host, or null when it does not exist (nothing validly exported, or
   *     {@code --mcs-host} off)
   */
  record Clusterset(ServiceView view, List<McsExportStatus> statuses, List<ConfigProblem> problems) {}

  /** {@code [name, namespace]} of {@code NAME.NS.svc.cluster.local} or {@code NAME.NS.svc.clusterset.local}, else null. */
  static String[] nameAndNamespace(String host) {
    String rest;
    if (host.endsWith("." + ClusterState.DOMAIN_SUFFIX)) {
      rest = host.substring(0, host.length() - ClusterState.DOMAIN_SUFFIX.length() - 1);
    } else if (McsSettings.isClustersetHost(host)) {
      rest = host.substring(0, host.length() - McsSettings.CLUSTERSET_SUFFIX.length() - 1);
    } else {
      return null;
    }
    String[] parts = rest.split("\\.", -1);
    if (parts.length != 2 || parts[0].isEmpty() || parts[1].isEmpty()) return null;
    return parts;
  }

  static Clusterset clusterset(String host, String name, String namespace, List<Member> members, boolean serveHost) {
    List<McsExportStatus> statuses = new ArrayList<>();
    List<Member> valid = new ArrayList<>();
    for (Member m : members) {
      if (m.export() == null) continue;
      if (m.service() == null || m.local() == null) {
        statuses.add(new McsExportStatus(m.clusterId(), namespace, name, SERVICE_NOT_FOUND, null,
            "no Service " + namespace + "/" + name + " in cluster " + m.clusterId() + "; create it or delete the "
                + "ServiceExport"));
      } else if ("ExternalName".equals(m.service().type())) {
        statuses.add(new McsExportStatus(m.clusterId(), namespace, name, TYPE_NOT_SUPPORTED, null,
            "Service " + namespace + "/" + name + " in cluster " + m.clusterId() + " is an ExternalName Service, "
                + "which cannot be exported"));
      } else {
        valid.add(m);
      }
    }
    if (valid.isEmpty()) return new Clusterset(null, sorted(statuses), List.of());
    valid.sort(Comparator.comparing((Member m) -> m.export().creationTimestamp()).thenComparing(Member::clusterId));
    Member definer = valid.get(0);
    Set<MeshService.Port> definedPorts = new HashSet<>(definer.local().service().ports());
    List<ConfigProblem> problems = new ArrayList<>();
    for (Member m : valid) {
      String conflict = null;
      if (!new HashSet<>(m.local().service().ports()).equals(definedPorts)) {
        conflict = "ports of Service " + namespace + "/" + name + " in cluster " + m.clusterId() + " "
            + describe(m.local().service().ports()) + " differ from those in cluster " + definer.clusterId() + " "
            + describe(definer.local().service().ports()) + ", whose ServiceExport is the oldest: " + host
            + " uses cluster " + definer.clusterId() + "'s ports; give the Service the same ports in every "
            + "exporting cluster";
        problems.add(ConfigProblem.warning("cluster " + m.clusterId(), new ResourceId("ServiceExport", namespace, name),
            "", conflict));
      }
      statuses.add(new McsExportStatus(m.clusterId(), namespace, name, null, conflict,
          conflict == null ? "exported to the clusterset as " + host : conflict));
    }
    if (!serveHost) return new Clusterset(null, sorted(statuses), List.copyOf(problems));
    SortedSet<String> exporters = new TreeSet<>();
    List<WorkloadEndpoint> endpoints = new ArrayList<>();
    for (Member m : valid) {
      exporters.add(m.clusterId());
      endpoints.addAll(m.local().endpoints());
    }
    boolean headless = definer.service().clusterIp() == null;
    Map<String, String> addresses = new TreeMap<>();
    if (!headless) {
      for (Member m : members) {
        if (m.imported() != null && !m.imported().ips().isEmpty()) addresses.put(m.clusterId(), m.imported().ips().get(0));
      }
    }
    MeshService d = definer.local().service();
    MeshService service = new MeshService(host, namespace, name, MeshService.Origin.KUBERNETES, d.ports(), addresses,
        d.exportTo(), d.resolution(), false, exporters, null, new MeshService.Mcs(true, exporters, false, headless));
    return new Clusterset(new ServiceView(service, endpoints), sorted(statuses), List.copyOf(problems));
  }

  private static List<McsExportStatus> sorted(List<McsExportStatus> statuses) {
    List<McsExportStatus> out = new ArrayList<>(statuses);
    out.sort(null);
    return List.copyOf(out);
  }

  private static String describe(List<MeshService.Port> ports) {
    List<String> out = new ArrayList<>();
    for (MeshService.Port p : ports) out.add((p.name().isEmpty() ? "" : p.name() + ":") + p.number() + "/" + p.protocol());
    out.sort(null);
    return out.toString();
  }
}
