package weft.agent;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import weft.security.SpiffeId;

/**
 * Who and where a workload is, in Istio's terms: what its certificate names (trust domain, namespace,
 * service account) and what its xDS node says (pod, address, cluster, network, labels, locality).
 *
 * @param locality {@code region/zone/subzone}, any part may be empty; "" when unknown
 * @param network "" when the workload's cluster has a single network
 * @param domainSuffix the cluster's DNS domain, Istio's {@code cluster.local}: the node id ends in
 *     {@code NS.svc.DOMAIN}
 */
public record WorkloadIdentity(String trustDomain, String namespace, String serviceAccount, String podName,
    String ip, String clusterId, String network, Map<String, String> labels, String locality,
    String domainSuffix) {
  /** Istio's default trust domain and cluster DNS domain. */
  public static final String CLUSTER_LOCAL = "cluster.local";

  public WorkloadIdentity {
    Objects.requireNonNull(trustDomain, "trustDomain");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(serviceAccount, "serviceAccount");
    Objects.requireNonNull(podName, "podName");
    Objects.requireNonNull(ip, "ip");
    clusterId = clusterId == null ? "" : clusterId;
    network = network == null ? "" : network;
    labels = labels == null ? Map.of() : Map.copyOf(labels);
    locality = locality == null ? "" : locality;
    domainSuffix = domainSuffix == null || domainSuffix.isEmpty() ? CLUSTER_LOCAL : domainSuffix;
    if (podName.isEmpty() || podName.contains("~")) {
      throw new IllegalArgumentException("pod name '" + podName + "' must be non-empty and hold no '~': "
          + "it is part of the node id sidecar~IP~POD.NS~NS.svc.DOMAIN");
    }
    if (ip.isEmpty() || ip.contains("~")) {
      throw new IllegalArgumentException("workload address '" + ip + "' must be a non-empty IP address");
    }
    if (locality.split("/", -1).length > 3) {
      throw new IllegalArgumentException("locality '" + locality + "' has more than region/zone/subzone");
    }
    spiffeIdOf(trustDomain, namespace, serviceAccount); // validates the three names
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The workload's only certificate name, {@code spiffe://TD/ns/NS/sa/SA}. */
  public SpiffeId spiffeId() {
    return spiffeIdOf(trustDomain, namespace, serviceAccount);
  }

  /** Istio's proxy id for a sidecar-kind node: {@code sidecar~IP~POD.NS~NS.svc.DOMAIN}. */
  public String nodeId() {
    return "sidecar~" + ip + "~" + podName + "." + namespace + "~" + namespace + ".svc." + domainSuffix;
  }

  private static SpiffeId spiffeIdOf(String td, String ns, String sa) {
    return new SpiffeId(td, ns, sa);
  }

  /** Most fields are optional; namespace, service account, pod name and address are not. */
  public static final class Builder {
    private String trustDomain = CLUSTER_LOCAL;
    private String namespace;
    private String serviceAccount;
    private String podName;
    private String ip;
    private String clusterId = "";
    private String network = "";
    private final Map<String, String> labels = new TreeMap<>();
    private String locality = "";
    private String domainSuffix = CLUSTER_LOCAL;

    private Builder() {}

    public Builder trustDomain(String v) {
      trustDomain = v;
      return this;
    }

    public Builder namespace(String v) {
      namespace = v;
      return this;
    }

    public Builder serviceAccount(String v) {
      serviceAccount = v;
      return this;
    }

    public Builder podName(String v) {
      podName = v;
      return this;
    }

    public Builder ip(String v) {
      ip = v;
      return this;
    }

    public Builder clusterId(String v) {
      clusterId = v;
      return this;
    }

    public Builder network(String v) {
      network = v;
      return this;
    }

    public Builder labels(Map<String, String> v) {
      labels.clear();
      labels.putAll(v);
      return this;
    }

    public Builder label(String key, String value) {
      labels.put(key, value);
      return this;
    }

    public Builder locality(String v) {
      locality = v;
      return this;
    }

    public Builder domainSuffix(String v) {
      domainSuffix = v;
      return this;
    }

    public WorkloadIdentity build() {
      return new WorkloadIdentity(trustDomain, namespace, serviceAccount, podName, ip, clusterId, network,
          new TreeMap<>(labels), locality, domainSuffix);
    }
  }
}
