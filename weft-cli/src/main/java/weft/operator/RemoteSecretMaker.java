package weft.operator;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequest;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Makes what {@code istioctl create-remote-secret} makes: in the remote cluster a read-only
 * service account with a role to read what the mesh needs, a token for it, and the Istio-format
 * Secret (label {@code istio/multiCluster=true}) that carries a kubeconfig with that token, for a
 * control plane elsewhere to discover the cluster's endpoints.
 */
public final class RemoteSecretMaker {
  /** The labels Istio's control plane looks for. */
  public static final String MULTICLUSTER_LABEL = "istio/multiCluster";
  static final String CLUSTER_ANNOTATION = "networking.istio.io/cluster";

  private final KubernetesClient client;
  private final Config config;

  public RemoteSecretMaker(KubernetesClient client) {
    this.client = client;
    this.config = client.getConfiguration();
  }

  /**
   * Creates (or updates) the reader account and its role in the remote cluster, requests a token
   * valid for {@code tokenSeconds}, and returns the Secret to apply to the control plane's cluster.
   */
  public Secret make(String clusterId, String namespace, String serviceAccount, long tokenSeconds) throws IOException {
    String role = serviceAccount + "-" + namespace;
    client.serviceAccounts().inNamespace(namespace).resource(new ServiceAccountBuilder()
        .withNewMetadata().withName(serviceAccount).withNamespace(namespace).endMetadata().build()).createOr(NonDeletingOperation::update);
    client.rbac().clusterRoles().resource(new ClusterRoleBuilder()
        .withNewMetadata().withName(role).endMetadata()
        .withRules(
            read("", "services", "endpoints", "pods", "nodes", "namespaces", "secrets"),
            read("discovery.k8s.io", "endpointslices"),
            read("networking.istio.io", "*"),
            read("security.istio.io", "*"),
            // The CA checks workload tokens of this cluster through it (TokenReview).
            new PolicyRuleBuilder().withApiGroups("authentication.k8s.io").withResources("tokenreviews")
                .withVerbs("create").build())
        .build()).createOr(NonDeletingOperation::update);
    client.rbac().clusterRoleBindings().resource(new ClusterRoleBindingBuilder()
        .withNewMetadata().withName(role).endMetadata()
        .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("ClusterRole").withName(role).endRoleRef()
        .addNewSubject().withKind("ServiceAccount").withName(serviceAccount).withNamespace(namespace).endSubject()
        .build()).createOr(NonDeletingOperation::update);
    TokenRequest granted = client.serviceAccounts().inNamespace(namespace).withName(serviceAccount)
        .tokenRequest(new TokenRequestBuilder().withNewSpec().withExpirationSeconds(tokenSeconds).endSpec().build());
    String token = granted.getStatus() == null ? null : granted.getStatus().getToken();
    if (token == null || token.isEmpty()) {
      throw new IOException("the API server at " + config.getMasterUrl() + " returned no token for service account "
          + namespace + "/" + serviceAccount);
    }
    return new SecretBuilder()
        .withNewMetadata()
        .withName("istio-remote-secret-" + clusterId)
        .withNamespace(namespace)
        .addToAnnotations(CLUSTER_ANNOTATION, clusterId)
        .addToLabels(MULTICLUSTER_LABEL, "true")
        .endMetadata()
        .addToStringData(clusterId, kubeconfig(clusterId, token))
        .build();
  }

  /** The Secret as YAML, ready for {@code kubectl apply -f -} or a control plane's remote-secrets folder. */
  public static String toYaml(Secret secret) {
    return Serialization.asYaml(secret);
  }

  /** A kubeconfig with everything inline (server, CA, token): nothing that reads files or runs commands. */
  private String kubeconfig(String clusterId, String token) throws IOException {
    Map<String, Object> cluster = new LinkedHashMap<>();
    cluster.put("server", config.getMasterUrl().replaceAll("/$", ""));
    String ca = caData();
    if (ca != null) {
      cluster.put("certificate-authority-data", ca);
    } else if (config.isTrustCerts()) {
      cluster.put("insecure-skip-tls-verify", true);
    }
    Map<String, Object> kubeconfig = new LinkedHashMap<>();
    kubeconfig.put("apiVersion", "v1");
    kubeconfig.put("kind", "Config");
    kubeconfig.put("clusters", List.of(Map.of("name", clusterId, "cluster", cluster)));
    kubeconfig.put("contexts", List.of(Map.of("name", clusterId, "context",
        Map.of("cluster", clusterId, "user", clusterId))));
    kubeconfig.put("current-context", clusterId);
    kubeconfig.put("users", List.of(Map.of("name", clusterId, "user", Map.of("token", token))));
    return new ObjectMapper(new YAMLFactory().disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER))
        .writeValueAsString(kubeconfig);
  }

  private String caData() throws IOException {
    if (config.getCaCertData() != null && !config.getCaCertData().isEmpty()) return config.getCaCertData();
    if (config.getCaCertFile() != null && !config.getCaCertFile().isEmpty()) {
      byte[] pem = Files.readAllBytes(Path.of(config.getCaCertFile()));
      return Base64.getEncoder().encodeToString(pem);
    }
    return null;
  }

  private static io.fabric8.kubernetes.api.model.rbac.PolicyRule read(String group, String... resources) {
    return new PolicyRuleBuilder().withApiGroups(group).withResources(resources)
        .withVerbs("get", "list", "watch").build();
  }
}
