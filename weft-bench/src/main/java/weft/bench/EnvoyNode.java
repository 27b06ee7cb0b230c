package weft.bench;

import com.google.protobuf.ListValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.BuildVersion;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.type.v3.SemanticVersion;

/**
 * The node an Istio sidecar's Envoy sends in its first request: id
 * {@code sidecar~IP~POD.NS~NS.svc.cluster.local}, and the metadata istio-agent puts in the
 * bootstrap (cluster id, namespace, labels, service account, pod ports, proxy config...). No
 * {@code GENERATOR}: this is Envoy, not a proxyless client. The size of what a connected proxy
 * declares matters to what the control plane keeps per connection, so the fields are the real ones.
 */
final class EnvoyNode {
  private EnvoyNode() {}

  /** A pod of deployment {@code app} in namespace {@code bench}, at {@code ip} in {@code clusterId}. */
  static Node sidecar(int index, String app, String ip, String clusterId) {
    String pod = app + "-7d4b9c8f6-" + Integer.toString(36 * 36 * 36 + index, 36);
    String ns = "bench";
    Struct labels = Struct.newBuilder()
        .putFields("app", str(app))
        .putFields("pod-template-hash", str("7d4b9c8f6"))
        .putFields("security.istio.io/tlsMode", str("istio"))
        .putFields("service.istio.io/canonical-name", str(app))
        .putFields("service.istio.io/canonical-revision", str("latest"))
        .build();
    Struct proxyConfig = Struct.newBuilder()
        .putFields("binaryPath", str("/usr/local/bin/envoy"))
        .putFields("configPath", str("./etc/istio/proxy"))
        .putFields("discoveryAddress", str("istiod.istio-system.svc:15012"))
        .putFields("drainDuration", str("45s"))
        .putFields("proxyAdminPort", Value.newBuilder().setNumberValue(15000).build())
        .putFields("serviceCluster", str("istio-proxy"))
        .putFields("statNameLength", Value.newBuilder().setNumberValue(189).build())
        .putFields("statusPort", Value.newBuilder().setNumberValue(15020).build())
        .build();
    Struct metadata = Struct.newBuilder()
        .putFields("ANNOTATIONS", Value.newBuilder().setStructValue(Struct.newBuilder()
            .putFields("kubectl.kubernetes.io/default-container", str(app))
            .putFields("sidecar.istio.io/status", str("{\"initContainers\":[\"istio-init\"],\"containers\":"
                + "[\"istio-proxy\"],\"volumes\":[\"workload-socket\",\"istio-envoy\",\"istio-data\","
                + "\"istio-podinfo\",\"istio-token\",\"istiod-ca-cert\"]}"))).build())
        .putFields("APP_CONTAINERS", str(app))
        .putFields("CLUSTER_ID", str(clusterId))
        .putFields("ENVOY_PROMETHEUS_PORT", Value.newBuilder().setNumberValue(15090).build())
        .putFields("ENVOY_STATUS_PORT", Value.newBuilder().setNumberValue(15021).build())
        .putFields("INSTANCE_IPS", str(ip))
        .putFields("INTERCEPTION_MODE", str("REDIRECT"))
        .putFields("ISTIO_PROXY_SHA", str("1.26.0"))
        .putFields("ISTIO_VERSION", str("1.26.0"))
        .putFields("LABELS", Value.newBuilder().setStructValue(labels).build())
        .putFields("MESH_ID", str("cluster.local"))
        .putFields("NAME", str(pod))
        .putFields("NAMESPACE", str(ns))
        .putFields("NODE_NAME", str("node-" + index % 50))
        .putFields("OWNER", str("kubernetes://apis/apps/v1/namespaces/" + ns + "/deployments/" + app))
        .putFields("PILOT_SAN", Value.newBuilder().setListValue(ListValue.newBuilder()
            .addValues(str("istiod.istio-system.svc"))).build())
        .putFields("POD_PORTS", str("[{\"name\":\"http\",\"containerPort\":8080,\"protocol\":\"TCP\"}]"))
        .putFields("PROXY_CONFIG", Value.newBuilder().setStructValue(proxyConfig).build())
        .putFields("SERVICE_ACCOUNT", str(app))
        .putFields("WORKLOAD_NAME", str(app))
        .build();
    return Node.newBuilder()
        .setId("sidecar~" + ip + "~" + pod + "." + ns + "~" + ns + ".svc.cluster.local")
        .setCluster(app + "." + ns)
        .setMetadata(metadata)
        .setUserAgentName("envoy")
        .setUserAgentBuildVersion(BuildVersion.newBuilder().setVersion(SemanticVersion.newBuilder()
            .setMajorNumber(1).setMinorNumber(34).setPatch(1)))
        .addClientFeatures("envoy.lb.does_not_support_overprovisioning")
        .addClientFeatures("envoy.lrs.supports_send_all_clusters")
        .build();
  }

  private static Value str(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }
}
