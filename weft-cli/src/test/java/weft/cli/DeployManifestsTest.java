package weft.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.Subject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import weft.registry.kube.ApiAccess;

/** deploy/ as kubectl would apply it: typed, complete, and granting exactly what the code uses. */
class DeployManifestsTest {
  static final String NS = "istio-system";

  @Test
  void everyDocumentParsesIntoFabric8sTypedModelWithNoFieldLeftOver() {
    List<DeployFolder.Document> docs = DeployFolder.documents();
    assertThat(docs).hasSizeGreaterThanOrEqualTo(12);
    for (DeployFolder.Document d : docs) {
      assertThat(d.resource()).as(d.file() + ": a kind fabric8 knows").isNotInstanceOf(GenericKubernetesResource.class);
      assertThat(DeployFolder.unknownFields(d.resource())).as(d.file() + " " + d.yaml()).isEmpty();
    }
  }

  @Test
  void theWalkFindsAMisspeltFieldDeepInAPodTemplate() {
    // The check above must be able to fail: a typo three levels down lands in additionalProperties.
    String yaml = DeployFolder.read(DeployFolder.folder().resolve("deployment.yaml"))
        .replace("periodSeconds: 3", "periodSecond: 3");
    Object typo = new io.fabric8.kubernetes.client.utils.KubernetesSerialization().unmarshal(yaml, Deployment.class);
    assertThat(DeployFolder.unknownFields(typo)).singleElement().asString()
        .contains("readinessProbe").contains("periodSecond");
  }

  @Test
  void theKustomizationListsEveryManifestInTheFolderAndNothingElse() throws IOException {
    Set<String> files = new TreeSet<>();
    try (Stream<Path> list = Files.list(DeployFolder.folder())) {
      list.map(p -> p.getFileName().toString()).filter(n -> !n.equals("kustomization.yaml")).forEach(files::add);
    }
    assertThat(new TreeSet<>(DeployFolder.kustomizationResources())).isEqualTo(files);
  }

  @Test
  void everyNamespacedObjectLivesInTheSystemNamespaceWhichTheFolderCreates() {
    assertThat(DeployFolder.all(Namespace.class)).extracting(n -> n.getMetadata().getName()).containsExactly(NS);
    for (HasMetadata r : DeployFolder.all(HasMetadata.class)) {
      if (r instanceof Namespace || r instanceof ClusterRole || r instanceof ClusterRoleBinding) continue;
      assertThat(r.getMetadata().getNamespace()).as(r.getKind() + " " + r.getMetadata().getName()).isEqualTo(NS);
    }
  }

  @Test
  void theControlPlaneIsProbedOnReadyAndHealthzAndItsServiceHasNoWebhookPort() {
    Deployment weft = DeployFolder.only(Deployment.class, "weft");
    var container = weft.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(container.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/ready");
    assertThat(container.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/healthz");
    assertThat(container.getReadinessProbe().getHttpGet().getPort().getIntVal()).isEqualTo(15014);
    assertThat(container.getLivenessProbe().getHttpGet().getPort().getIntVal()).isEqualTo(15014);
    assertThat(container.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(weft.getSpec().getTemplate().getSpec().getSecurityContext().getRunAsNonRoot()).isTrue();

    Service istiod = DeployFolder.only(Service.class, "istiod");
    assertThat(istiod.getSpec().getPorts()).extracting(ServicePort::getPort).containsExactly(15010, 15012, 15014);
    assertThat(istiod.getSpec().getSelector()).isEqualTo(weft.getSpec().getSelector().getMatchLabels());
    assertThat(container.getArgs()).contains("--xds-port=15010", "--secure-port=15012", "--monitoring-port=15014");

    PodDisruptionBudget pdb = DeployFolder.only(PodDisruptionBudget.class, "weft");
    assertThat(pdb.getSpec().getSelector().getMatchLabels()).isEqualTo(weft.getSpec().getSelector().getMatchLabels());
    assertThat(pdb.getSpec().getMinAvailable().getIntVal()).isLessThan(weft.getSpec().getReplicas());

    Deployment gateway = DeployFolder.only(Deployment.class, "istio-eastwestgateway");
    Service gatewayService = DeployFolder.only(Service.class, "istio-eastwestgateway");
    assertThat(gatewayService.getSpec().getPorts()).extracting(ServicePort::getPort).contains(15443);
    assertThat(gatewayService.getSpec().getSelector())
        .isEqualTo(gateway.getSpec().getSelector().getMatchLabels());
    assertThat(gateway.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs()).first()
        .isEqualTo("gateway");
  }

  /**
   * Least privilege, both ways: every request kind the code makes (ApiAccess, which the informers are
   * built from) is granted to the control plane's service account, and nothing else is.
   */
  @Test
  void theRolesGrantExactlyTheRequestsTheCodeMakes() {
    String serviceAccount = DeployFolder.only(Deployment.class, "weft").getSpec().getTemplate().getSpec()
        .getServiceAccountName();
    ClusterRoleBinding clusterBinding = DeployFolder.only(ClusterRoleBinding.class, "weft");
    RoleBinding binding = DeployFolder.only(RoleBinding.class, "weft");
    for (Subject s : List.of(clusterBinding.getSubjects().get(0), binding.getSubjects().get(0))) {
      assertThat(s.getKind()).isEqualTo("ServiceAccount");
      assertThat(s.getName()).isEqualTo(serviceAccount);
      assertThat(s.getNamespace()).isEqualTo(NS);
    }
    ClusterRole clusterRole = DeployFolder.only(ClusterRole.class, clusterBinding.getRoleRef().getName());
    Role role = DeployFolder.only(Role.class, binding.getRoleRef().getName());

    Set<String> clusterWide = grants(clusterRole.getRules());
    Set<String> inSystemNamespace = grants(role.getRules());
    Set<String> needed = new TreeSet<>();
    for (ApiAccess a : ApiAccess.CONTROL_PLANE) {
      for (String verb : a.verbs()) {
        String grant = a.group() + "/" + a.resource() + ":" + verb;
        needed.add(grant);
        Set<String> where = a.systemNamespaceOnly() ? union(clusterWide, inSystemNamespace) : clusterWide;
        assertThat(where).as("%s (%s) needs %s", a.user(), a.systemNamespaceOnly() ? "in " + NS : "cluster-wide",
            grant).contains(grant);
      }
    }
    assertThat(union(clusterWide, inSystemNamespace)).as("granted but used by no code").isSubsetOf(needed);
    // credentialName Secrets are read in every namespace (as istiod does), never written.
    assertThat(clusterWide).as("secrets are only read").filteredOn(g -> g.startsWith("/secrets:"))
        .containsExactlyInAnyOrder("/secrets:list", "/secrets:watch");
  }

  /** "group/resource:verb" for every combination a rule list grants; a wildcard would fail the subset check. */
  static Set<String> grants(List<PolicyRule> rules) {
    Set<String> out = new TreeSet<>();
    for (PolicyRule r : rules) {
      assertThat(r.getResourceNames()).as("rules name no single object").isNullOrEmpty();
      for (String g : r.getApiGroups()) {
        for (String res : r.getResources()) {
          for (String v : r.getVerbs()) out.add(g + "/" + res + ":" + v);
        }
      }
    }
    return out;
  }

  static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> out = new TreeSet<>(a);
    out.addAll(b);
    return out;
  }

  @Test
  void theDockerfileRunsTheCliJarAsANonRootUserOnAJre() throws IOException {
    List<String> lines = new ArrayList<>(DockerfileFacts.instructions());
    DockerfileFacts facts = DockerfileFacts.read();
    assertThat(facts.base()).as("a JRE base image").containsIgnoringCase("jre");
    assertThat(facts.user()).as("USER").isNotBlank().isNotIn("root", "0", "0:0", "root:root");
    assertThat(facts.user().split(":")[0]).as("a numeric uid, so that runAsNonRoot can check it").matches("[1-9][0-9]*");
    assertThat(facts.copiedJar()).as("the jar the build makes").isEqualTo(DockerfileFacts.jarTheBuildMakes());
    assertThat(facts.entrypoint()).containsSubsequence("java", "-jar", facts.jarInImage());
    // The image's user is the one the pods run as.
    for (Deployment d : DeployFolder.all(Deployment.class)) {
      assertThat(String.valueOf(d.getSpec().getTemplate().getSpec().getSecurityContext().getRunAsUser()))
          .isEqualTo(facts.user().split(":")[0]);
    }
    assertThat(lines).isNotEmpty();
  }
}
