package weft.xds.security;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import weft.model.MeshConfig;
import weft.registry.WorkloadEndpoint;

/** Workload identities as certificates carry them, and the label that says a workload speaks mesh mTLS. */
public final class Identities {
  /**
   * Istio's injector sets {@code security.istio.io/tlsMode: istio} on workloads with a sidecar; a
   * proxyless gRPC workload sets it itself when its code uses xDS credentials (Istio's grpc-agent
   * template says so). Auto mTLS and a proxyless server's PERMISSIVE mode read it.
   */
  public static final String TLS_MODE_LABEL = "security.istio.io/tlsMode";

  private Identities() {}

  /** {@code spiffe://TRUST_DOMAIN/ns/NAMESPACE/sa/SERVICE_ACCOUNT}. */
  public static String spiffe(String trustDomain, String namespace, String serviceAccount) {
    return "spiffe://" + trustDomain + "/ns/" + namespace + "/sa/" + serviceAccount;
  }

  /** True when the workload's labels say it terminates Istio mTLS. */
  public static boolean inMesh(Map<String, String> labels) {
    return "istio".equals(labels.get(TLS_MODE_LABEL));
  }

  /**
   * The identities a client may accept from these endpoints of a service in {@code namespace}:
   * every service account, under the trust domain and each of its aliases (as Istio expands SANs),
   * sorted. Endpoints without a known service account add nothing.
   */
  public static List<String> of(MeshConfig mesh, String namespace, Iterable<WorkloadEndpoint> endpoints) {
    List<String> domains = new ArrayList<>();
    domains.add(mesh.trustDomain());
    domains.addAll(mesh.trustDomainAliases());
    TreeSet<String> out = new TreeSet<>();
    for (WorkloadEndpoint e : endpoints) {
      if (e.serviceAccount() == null || e.serviceAccount().isEmpty()) continue;
      for (String td : domains) out.add(spiffe(td, namespace, e.serviceAccount()));
    }
    return List.copyOf(out);
  }
}
