package weft.registry.kube;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.ArrayList;
import java.util.List;
import weft.model.ResourceId;

/**
 * One API kind a cluster source watches. Every kind is read as a generic resource: the parser sees
 * the object exactly as the API server sent it, and Istio kinds need no typed model.
 */
record WatchedKind(String group, String version, String kind, String plural, boolean namespaced, boolean istio) {
  private static final String ISTIO = "networking.istio.io";
  private static final String SECURITY = "security.istio.io";
  private static final String GATEWAY_API = "gateway.networking.k8s.io";

  /** What every cluster contributes: services, their endpoints, and where workloads run. */
  static final List<WatchedKind> CLUSTER = List.of(
      new WatchedKind("", "v1", "Service", "services", true, false),
      new WatchedKind("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", true, false),
      new WatchedKind("", "v1", "Pod", "pods", true, false),
      new WatchedKind("", "v1", "Node", "nodes", false, false),
      new WatchedKind("", "v1", "Namespace", "namespaces", false, false));

  /** Istio config: read only from the control plane's own config cluster, as Istio does. */
  static final List<WatchedKind> ISTIO_CONFIG = List.of(
      new WatchedKind(ISTIO, "v1", "ServiceEntry", "serviceentries", true, true),
      new WatchedKind(ISTIO, "v1", "WorkloadEntry", "workloadentries", true, true),
      new WatchedKind(ISTIO, "v1", "DestinationRule", "destinationrules", true, true),
      new WatchedKind(ISTIO, "v1", "VirtualService", "virtualservices", true, true),
      new WatchedKind(ISTIO, "v1", "Sidecar", "sidecars", true, true),
      new WatchedKind(ISTIO, "v1", "Gateway", "gateways", true, true),
      new WatchedKind(SECURITY, "v1", "PeerAuthentication", "peerauthentications", true, true),
      new WatchedKind(SECURITY, "v1", "AuthorizationPolicy", "authorizationpolicies", true, true),
      // Kept but not enforced yet (the parser warns); watched now so that nothing is silently unread.
      new WatchedKind(SECURITY, "v1", "RequestAuthentication", "requestauthentications", true, true),
      // Kubernetes Gateway API, at the versions Istio reads (translated into Istio's kinds by the registry).
      new WatchedKind(GATEWAY_API, "v1", "Gateway", "gateways", true, true),
      new WatchedKind(GATEWAY_API, "v1", "HTTPRoute", "httproutes", true, true),
      new WatchedKind(GATEWAY_API, "v1", "GRPCRoute", "grpcroutes", true, true),
      new WatchedKind(GATEWAY_API, "v1beta1", "ReferenceGrant", "referencegrants", true, true),
      new WatchedKind(GATEWAY_API, "v1alpha2", "TCPRoute", "tcproutes", true, true),
      new WatchedKind(GATEWAY_API, "v1alpha2", "TLSRoute", "tlsroutes", true, true),
      // Proxy extensions: EnvoyFilter exists only at v1alpha3, WasmPlugin only at v1alpha1.
      new WatchedKind(ISTIO, "v1alpha3", "EnvoyFilter", "envoyfilters", true, true),
      new WatchedKind("extensions.istio.io", "v1alpha1", "WasmPlugin", "wasmplugins", true, true),
      // TLS material for credentialName, served over SDS (Istio's istiod watches Secrets cluster-wide).
      new WatchedKind("", "v1", "Secret", "secrets", true, false),
      new WatchedKind("telemetry.istio.io", "v1", "Telemetry", "telemetries", true, true),
      new WatchedKind(ISTIO, "v1", "WorkloadGroup", "workloadgroups", true, true),
      new WatchedKind(ISTIO, "v1beta1", "ProxyConfig", "proxyconfigs", true, true));

  /**
   * Multi-Cluster Services (KEP-1645), read from every cluster while MCS is on. Optional like Istio's
   * kinds: a cluster without the CRDs is listed as having none.
   */
  static final List<WatchedKind> MCS = List.of(
      new WatchedKind("multicluster.x-k8s.io", "v1alpha1", "ServiceExport", "serviceexports", true, true),
      new WatchedKind("multicluster.x-k8s.io", "v1alpha1", "ServiceImport", "serviceimports", true, true));

  static List<WatchedKind> forCluster(boolean configCluster) {
    return forCluster(configCluster, false);
  }

  static List<WatchedKind> forCluster(boolean configCluster, boolean mcs) {
    List<WatchedKind> all = new ArrayList<>(CLUSTER);
    if (mcs) all.addAll(MCS);
    if (configCluster) all.addAll(ISTIO_CONFIG);
    return List.copyOf(all);
  }

  String apiVersion() {
    return group.isEmpty() ? version : group + "/" + version;
  }

  /** The id the parser gives this object, so events and parse results meet on one key. */
  ResourceId id(HasMetadata object) {
    String namespace = object.getMetadata().getNamespace();
    if (!namespaced) {
      namespace = "";
    } else if (namespace == null || namespace.isEmpty()) {
      namespace = "default";
    }
    // The Gateway API's Gateway is Istio's KubernetesGateway in ids, as the parser names it.
    String idKind = group.equals(GATEWAY_API) && kind.equals("Gateway") ? weft.model.KubernetesGateway.KIND : kind;
    return new ResourceId(idKind, namespace, object.getMetadata().getName());
  }

  /** A not yet started informer over every namespace; no resync (events carry every change). */
  SharedIndexInformer<GenericKubernetesResource> informer(KubernetesClient client) {
    ResourceDefinitionContext context = new ResourceDefinitionContext.Builder()
        .withGroup(group).withVersion(version).withKind(kind).withPlural(plural).withNamespaced(namespaced).build();
    var resources = client.genericKubernetesResources(context);
    return namespaced ? resources.inAnyNamespace().runnableInformer(0) : resources.runnableInformer(0);
  }

  @Override
  public String toString() {
    return plural + (group.isEmpty() ? "" : "." + group);
  }
}
