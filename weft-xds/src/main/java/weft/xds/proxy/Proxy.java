package weft.xds.proxy;

import java.util.List;
import java.util.Map;
import weft.registry.Locality;

/**
 * A connected client as its node identity describes it. Everything a generator may use about the
 * client is here; nothing about the control plane's own cluster is.
 *
 * @param kind {@code sidecar} or {@code router}, from the node id
 * @param proxyless true for {@code GENERATOR=grpc} (grpc-java's xDS client and server)
 * @param dnsCapture true when its node metadata asks for DNS proxying ({@code DNS_CAPTURE} or
 *     {@code DNS_AUTO_ALLOCATE} "true"): it is sent a name table, and ServiceEntry hosts without
 *     addresses are known to it by their automatic addresses
 * @param networkView the networks whose endpoints it asks to see ({@code REQUESTED_NETWORK_VIEW},
 *     Istio's partitioned discovery), sorted; empty: every network
 * @param meshId the mesh it says it belongs to ({@code MESH_ID}, Istio's ProxyConfig mesh_id); empty
 *     when not given. Shown in status; a proxy of another mesh is not served another mesh's config
 *     by this field (identity decides that), it only makes a mix-up visible.
 * @param istioVersion the proxy's {@code ISTIO_VERSION} metadata, empty when not given; EnvoyFilter
 *     {@code match.proxy.proxyVersion} is matched against it, as Istio does
 * @param verifiedNamespace the namespace the client proved on the secure port (its certificate's or
 *     token's SPIFFE identity); empty on the plaintext port and with {@code --xds-auth none}. Only
 *     such a proxy is sent Kubernetes Secrets (SDS), and only of this namespace.
 * @param secretsRefusal why a proven proxy may still not be sent its namespace's Secrets (Kubernetes
 *     RBAC does not let its service account read them); empty when nothing stops it. Certificates
 *     its Gateway API Gateway references are not subject to it, as in Istio.
 */
public record Proxy(String id, String kind, String ip, String podName, String namespace, String clusterId,
    String network, Map<String, String> labels, String serviceAccount, Locality locality, boolean proxyless,
    String dnsDomain, boolean dnsCapture, List<String> networkView, String meshId, String istioVersion,
    String verifiedNamespace, String secretsRefusal) {
  public Proxy {
    labels = Map.copyOf(labels);
    networkView = List.copyOf(new java.util.TreeSet<>(networkView));
    meshId = meshId == null ? "" : meshId;
    istioVersion = istioVersion == null ? "" : istioVersion;
    verifiedNamespace = verifiedNamespace == null ? "" : verifiedNamespace;
    secretsRefusal = secretsRefusal == null ? "" : secretsRefusal;
  }

  /** A proxy with nothing in the way of its namespace's Secrets but its proof. */
  public Proxy(String id, String kind, String ip, String podName, String namespace, String clusterId, String network,
      Map<String, String> labels, String serviceAccount, Locality locality, boolean proxyless, String dnsDomain,
      boolean dnsCapture, List<String> networkView, String meshId, String istioVersion, String verifiedNamespace) {
    this(id, kind, ip, podName, namespace, clusterId, network, labels, serviceAccount, locality, proxyless, dnsDomain,
        dnsCapture, networkView, meshId, istioVersion, verifiedNamespace, "");
  }

  /** A proxy that proved no identity (the plaintext port, or {@code --xds-auth none}). */
  public Proxy(String id, String kind, String ip, String podName, String namespace, String clusterId, String network,
      Map<String, String> labels, String serviceAccount, Locality locality, boolean proxyless, String dnsDomain,
      boolean dnsCapture, List<String> networkView, String meshId, String istioVersion) {
    this(id, kind, ip, podName, namespace, clusterId, network, labels, serviceAccount, locality, proxyless, dnsDomain,
        dnsCapture, networkView, meshId, istioVersion, "");
  }

  /** A proxy that gives no Istio version. */
  public Proxy(String id, String kind, String ip, String podName, String namespace, String clusterId, String network,
      Map<String, String> labels, String serviceAccount, Locality locality, boolean proxyless, String dnsDomain,
      boolean dnsCapture, List<String> networkView, String meshId) {
    this(id, kind, ip, podName, namespace, clusterId, network, labels, serviceAccount, locality, proxyless, dnsDomain,
        dnsCapture, networkView, meshId, "");
  }

  /**
   * The same proxy, whose client proved on the secure port that it runs in {@code namespace}: it
   * may then be sent the Kubernetes Secrets of that namespace over SDS (credentialName).
   */
  public Proxy verifiedIn(String namespace) {
    return new Proxy(id, kind, ip, podName, this.namespace, clusterId, network, labels, serviceAccount, locality,
        proxyless, dnsDomain, dnsCapture, networkView, meshId, istioVersion, namespace, secretsRefusal);
  }

  /** The same proxy, which may not be sent its namespace's Secrets, for {@code reason}. */
  public Proxy refusedSecrets(String reason) {
    return new Proxy(id, kind, ip, podName, namespace, clusterId, network, labels, serviceAccount, locality,
        proxyless, dnsDomain, dnsCapture, networkView, meshId, istioVersion, verifiedNamespace, reason);
  }

  /**
   * Whether its namespace's Kubernetes Secrets may be served to it (an identity was proven and
   * nothing refused it them).
   */
  public boolean servedSecrets() {
    return !verifiedNamespace.isEmpty() && secretsRefusal.isEmpty();
  }

  /** A proxy that names no mesh. */
  public Proxy(String id, String kind, String ip, String podName, String namespace, String clusterId, String network,
      Map<String, String> labels, String serviceAccount, Locality locality, boolean proxyless, String dnsDomain,
      boolean dnsCapture, List<String> networkView) {
    this(id, kind, ip, podName, namespace, clusterId, network, labels, serviceAccount, locality, proxyless, dnsDomain,
        dnsCapture, networkView, "");
  }

  /** A proxy that sees every network. */
  public Proxy(String id, String kind, String ip, String podName, String namespace, String clusterId, String network,
      Map<String, String> labels, String serviceAccount, Locality locality, boolean proxyless, String dnsDomain,
      boolean dnsCapture) {
    this(id, kind, ip, podName, namespace, clusterId, network, labels, serviceAccount, locality, proxyless, dnsDomain,
        dnsCapture, List.of());
  }

  /** A proxy that does not ask for DNS proxying. */
  public Proxy(String id, String kind, String ip, String podName, String namespace, String clusterId, String network,
      Map<String, String> labels, String serviceAccount, Locality locality, boolean proxyless, String dnsDomain) {
    this(id, kind, ip, podName, namespace, clusterId, network, labels, serviceAccount, locality, proxyless, dnsDomain,
        false);
  }
}
