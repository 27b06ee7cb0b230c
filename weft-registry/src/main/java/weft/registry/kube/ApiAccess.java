package weft.registry.kube;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * One kind of request the control plane makes to an API server: which resource, with which verbs,
 * and where. {@link #CONTROL_PLANE} is the whole list; the RBAC rules shipped in {@code deploy/} are
 * checked against it, so a new informer or writer that is not listed here fails the build.
 *
 * @param group API group ("" for the core group)
 * @param resource the plural, with {@code /subresource} where one is used
 * @param verbs Kubernetes RBAC verbs
 * @param systemNamespaceOnly true when only the system namespace is read or written (a Role there is enough)
 * @param user the class that makes the requests (for the reader of a failing check)
 */
public record ApiAccess(String group, String resource, Set<String> verbs, boolean systemNamespaceOnly, String user) {
  /** What a fabric8 informer asks for: the initial list, then a watch. */
  static final Set<String> INFORMER = Set.of("list", "watch");

  /** Remote secrets ({@code istio/multiCluster=true}) are watched in the system namespace. */
  public static final ApiAccess REMOTE_SECRETS = new ApiAccess("", "secrets", INFORMER, true,
      "RemoteSecretController");
  /** The {@code istio} ConfigMap (MeshConfig, MeshNetworks) of an external control plane's config cluster. */
  public static final ApiAccess MESH_CONFIG_MAP = new ApiAccess("", "configmaps", INFORMER, true,
      "MeshConfigMapSource");
  /** fabric8's {@code LeaseLock} (ResourceLock): reads the Lease, creates it when missing, renews it with a patch. */
  public static final ApiAccess LEADER_LEASE = new ApiAccess("coordination.k8s.io", "leases",
      Set.of("get", "create", "patch"), true, "LeaseLeadership");
  /** The leader writes automatic addresses into ServiceEntries' {@code status.addresses}. */
  public static final ApiAccess SERVICE_ENTRY_READ = new ApiAccess("networking.istio.io", "serviceentries",
      Set.of("get"), false, "ServiceEntryStatusWriter");
  public static final ApiAccess SERVICE_ENTRY_STATUS = new ApiAccess("networking.istio.io", "serviceentries/status",
      Set.of("patch"), false, "ServiceEntryStatusWriter");
  /**
   * Auto-registration writes the WorkloadEntries of proxies that join a WorkloadGroup (each control
   * plane those connected to it, as istiod does), owned by the group it reads.
   */
  public static final ApiAccess WORKLOAD_ENTRY_WRITE = new ApiAccess("networking.istio.io", "workloadentries",
      Set.of("get", "create", "update", "delete"), false, "WorkloadEntryWriter");
  public static final ApiAccess WORKLOAD_GROUP_READ = new ApiAccess("networking.istio.io", "workloadgroups",
      Set.of("get"), false, "WorkloadEntryWriter");
  /** Before a proxy is sent Secrets, may its service account list them (as istiod asks)? */
  public static final ApiAccess SUBJECT_ACCESS_REVIEWS = new ApiAccess("authorization.k8s.io", "subjectaccessreviews",
      Set.of("create"), false, "KubernetesSecretAccess");
  /** The leader writes Gateway API status (Istio's gateway controller's conditions), reading each object first. */
  public static final List<ApiAccess> GATEWAY_API_STATUS = gatewayApiStatus();
  /** Federated trust domains are declared in the system namespace only (a tenant must not add trust). */
  public static final ApiAccess TRUST_DOMAIN_FEDERATIONS = new ApiAccess("weft.dev", "trustdomainfederations",
      Set.of("list"), true, "ControlPlaneFederation");
  /** Peer meshes are declared in the system namespace only, like trust (a tenant must not route the mesh elsewhere). */
  public static final ApiAccess MESH_FEDERATIONS = new ApiAccess("weft.dev", "meshfederations",
      Set.of("list"), true, "ControlPlaneMeshes");
  /** Callers of the CSR API and the secure xDS port prove who they are with a token, reviewed here. */
  public static final ApiAccess TOKEN_REVIEWS = new ApiAccess("authentication.k8s.io", "tokenreviews",
      Set.of("create"), false, "KubernetesTokenAuthenticator");

  /** Every request {@code weft control-plane} makes to its own cluster's API server. */
  public static final List<ApiAccess> CONTROL_PLANE = controlPlane();

  public ApiAccess {
    verbs = Set.copyOf(new TreeSet<>(verbs));
  }

  private static List<ApiAccess> gatewayApiStatus() {
    List<ApiAccess> out = new ArrayList<>();
    for (String plural : List.of("gateways", "httproutes", "grpcroutes", "tcproutes", "tlsroutes")) {
      out.add(new ApiAccess("gateway.networking.k8s.io", plural, Set.of("get"), false, "GatewayApiStatusWriter"));
      out.add(new ApiAccess("gateway.networking.k8s.io", plural + "/status", Set.of("patch"), false,
          "GatewayApiStatusWriter"));
    }
    return List.copyOf(out);
  }

  private static List<ApiAccess> controlPlane() {
    List<ApiAccess> all = new ArrayList<>();
    // The informers are built from WatchedKind: the list follows it, whatever is added there.
    for (WatchedKind k : WatchedKind.forCluster(true)) {
      all.add(new ApiAccess(k.group(), k.plural(), INFORMER, false, "KubeClusterSource (" + k.kind() + ")"));
    }
    all.addAll(List.of(REMOTE_SECRETS, MESH_CONFIG_MAP, LEADER_LEASE, SERVICE_ENTRY_READ, SERVICE_ENTRY_STATUS,
        TRUST_DOMAIN_FEDERATIONS, MESH_FEDERATIONS, TOKEN_REVIEWS, WORKLOAD_ENTRY_WRITE, WORKLOAD_GROUP_READ,
        SUBJECT_ACCESS_REVIEWS));
    all.addAll(GATEWAY_API_STATUS);
    return List.copyOf(all);
  }
}
