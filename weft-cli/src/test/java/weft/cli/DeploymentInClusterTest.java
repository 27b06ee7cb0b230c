package weft.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;
import weft.registry.kube.ApiAccess;
import weft.security.ca.CaTools;

/**
 * Weft started exactly as deploy/deployment.yaml starts it (its container args, its volumes filled
 * from the ConfigMap and a plugged-in CA), against fabric8's CRUD API server over TLS standing in for
 * the pod's cluster: it becomes ready, and every request it made is one the RBAC rules allow.
 */
class DeploymentInClusterTest {
  static final Duration PATIENCE = Duration.ofSeconds(90);
  /** Held strongly: java.util.logging keeps loggers weakly. */
  static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  static {
    MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
  }

  @TempDir
  Path dir;

  MockWebServer web;
  KubernetesMockServer server;
  CompletableFuture<ControlPlane> started;

  @BeforeEach
  void apiServer() {
    web = new MockWebServer();
    server = new KubernetesMockServer(new Context(), web, new HashMap<>(), new KubernetesCrudDispatcher(), true);
    server.init(InetAddress.getLoopbackAddress(), 0);
    for (ApiAccess a : ApiAccess.CONTROL_PLANE) {
      if (!a.group().endsWith("istio.io") || a.resource().contains("/")) continue;
      String kind = switch (a.resource()) {
        case "serviceentries" -> "ServiceEntry";
        case "workloadentries" -> "WorkloadEntry";
        case "destinationrules" -> "DestinationRule";
        case "virtualservices" -> "VirtualService";
        case "sidecars" -> "Sidecar";
        case "gateways" -> "Gateway";
        case "peerauthentications" -> "PeerAuthentication";
        case "authorizationpolicies" -> "AuthorizationPolicy";
        case "requestauthentications" -> "RequestAuthentication";
        case "envoyfilters" -> "EnvoyFilter";
        case "wasmplugins" -> "WasmPlugin";
        case "telemetries" -> "Telemetry";
        case "workloadgroups" -> "WorkloadGroup";
        case "proxyconfigs" -> "ProxyConfig";
        default -> throw new AssertionError("an Istio kind this test does not know: " + a.resource());
      };
      String version = switch (a.resource()) {
        case "envoyfilters" -> "v1alpha3";
        case "wasmplugins" -> "v1alpha1";
        case "proxyconfigs" -> "v1beta1";
        default -> "v1";
      };
      server.expectCustomResource(new CustomResourceDefinitionContext.Builder().withGroup(a.group())
          .withVersion(version).withKind(kind).withPlural(a.resource()).withScope("Namespaced")
          .withStatusSubresource(a.resource().equals("serviceentries")).withName(a.resource() + "." + a.group())
          .build());
    }
  }

  @AfterEach
  void stop() {
    if (started != null) started.handle((cp, e) -> {
      if (cp != null) cp.close();
      return null;
    }).join();
    server.destroy();
  }

  @Test
  void theDeploymentsArgumentsAndTheConfigMapsMeshConfigReachReadyWithRequestsTheRolesAllow() throws Exception {
    try (NamespacedKubernetesClient admin = server.createClient()) {
      admin.services().inNamespace("default").resource(new ServiceBuilder().withNewMetadata().withName("reviews")
          .withNamespace("default").endMetadata().withNewSpec().withClusterIP("10.0.0.7").addNewPort().withName("http")
          .withPort(9080).endPort().endSpec().build()).create();
    }
    while (web.takeRequest(0, TimeUnit.MILLISECONDS) != null) {
      // the test's own requests are not the control plane's
    }
    ControlPlaneOptions options = deploymentOptions(podEnvironment(web.getPort()), List.of());
    started = CompletableFuture.completedFuture(ControlPlane.start(options));
    ControlPlane cp = started.join();

    assertThat(get(cp.monitoringPort(), "/ready")).isEqualTo(200);
    assertThat(get(cp.monitoringPort(), "/healthz")).isEqualTo(200);
    // Reached through the pod's token and CA: the cluster's Service is in the mesh.
    await().atMost(PATIENCE).until(() -> cp.registry().current().services().containsKey(
        "reviews.default.svc.cluster.local"));
    assertThat(cp.registry().current().meshConfig().trustDomain()).isEqualTo("cluster.local");
    assertThat(cp.status().get("configProblems")).asList().isEmpty();
    assertThat(cp.securePort()).as("the CA from the cacerts volume").isPositive();
    await().atMost(PATIENCE).until(() -> cp.leadership().isLeader());

    Set<String> refused = new TreeSet<>();
    Set<String> made = new TreeSet<>();
    Rbac rbac = Rbac.ofDeployFolder();
    for (RecordedRequest r; (r = web.takeRequest(0, TimeUnit.MILLISECONDS)) != null; ) {
      ApiRequest request = ApiRequest.of(r.getMethod(), r.getPath());
      if (request == null) continue; // discovery (/api, /apis, /version): allowed to every authenticated caller
      made.add(request.toString());
      if (!rbac.allows(request)) refused.add(request.toString());
    }
    assertThat(made).as("requests seen").anyMatch(s -> s.contains("/services:watch"))
        .anyMatch(s -> s.contains("coordination.k8s.io/leases"));
    assertThat(refused).as("requests the deploy/ roles would refuse, of " + made).isEmpty();
  }

  @Test
  void healthzAnswersWhileTheInitialSyncStillWaitsAndReadyDoesNot() throws Exception {
    int unbound = FreePort.unbound();
    int monitoring = FreePort.unbound();
    // An API server that never answers: start-up waits its whole --initial-sync-wait.
    ControlPlaneOptions options = deploymentOptions(podEnvironment(unbound), List.of("--initial-sync-wait=8"))
        .withPorts(0, monitoring);
    started = CompletableFuture.supplyAsync(() -> {
      try {
        return ControlPlane.start(options);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
    await().atMost(PATIENCE).pollInterval(Duration.ofMillis(100))
        .until(() -> get(monitoring, "/healthz") == 200 && get(monitoring, "/ready") == 503);
    // The pod was alive all along, and becomes ready once the wait is over (serving what is known).
    await().atMost(PATIENCE).until(() -> get(monitoring, "/ready") == 200);
    assertThat(get(monitoring, "/healthz")).isEqualTo(200);
  }

  /** The pod's environment: the API server's address and a service-account folder with its CA. */
  private ControlPlaneOptions.InCluster podEnvironment(int port) throws IOException {
    Path serviceAccount = Files.createDirectories(dir.resolve("serviceaccount"));
    Files.writeString(serviceAccount.resolve("token"), "a.service-account.token\n");
    Files.copy(Path.of(web.getSelfSignedCertificate().certificatePath()), serviceAccount.resolve("ca.crt"));
    return new ControlPlaneOptions.InCluster(Map.of("KUBERNETES_SERVICE_HOST", web.getHostName(),
        "KUBERNETES_SERVICE_PORT", String.valueOf(port)), serviceAccount);
  }

  /**
   * The control plane's options from the Deployment's container args: each volume mount becomes a
   * folder here, filled as the kubelet would (the ConfigMap's keys, the CA Secret's files); the
   * well-known ports become any free port (others may be using them on this machine).
   */
  private ControlPlaneOptions deploymentOptions(ControlPlaneOptions.InCluster pod, List<String> extraArgs)
      throws IOException {
    Deployment deployment = DeployFolder.only(Deployment.class, "weft");
    Container container = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
    Map<String, Volume> volumes = new HashMap<>();
    deployment.getSpec().getTemplate().getSpec().getVolumes().forEach(v -> volumes.put(v.getName(), v));
    Map<String, Path> mounts = new HashMap<>();
    for (VolumeMount m : container.getVolumeMounts()) {
      Path local = Files.createDirectories(dir.resolve("volumes").resolve(m.getName()));
      Volume v = volumes.get(m.getName());
      if (v.getConfigMap() != null) {
        ConfigMap map = DeployFolder.only(ConfigMap.class, v.getConfigMap().getName());
        for (Map.Entry<String, String> e : map.getData().entrySet()) {
          Files.writeString(local.resolve(e.getKey()), e.getValue());
        }
      } else if (v.getSecret() != null) {
        assertThat(v.getSecret().getSecretName()).isEqualTo("cacerts");
        Path root = dir.resolve("offline-root");
        CaTools.initRoot(root, "cluster.local");
        CaTools.intermediate(root, "cluster1", local);
      } else {
        assertThat(v.getEmptyDir()).as("volume " + v.getName()).isNotNull();
      }
      mounts.put(m.getMountPath(), local);
    }
    List<String> args = new ArrayList<>();
    for (String arg : container.getArgs()) {
      String a = arg;
      int eq = a.indexOf('=');
      if (eq > 0) {
        String value = a.substring(eq + 1);
        for (Map.Entry<String, Path> m : mounts.entrySet()) {
          if (value.equals(m.getKey()) || value.startsWith(m.getKey() + "/")) {
            a = a.substring(0, eq + 1) + m.getValue() + value.substring(m.getKey().length());
            break;
          }
        }
      }
      a = a.replaceAll("^(--(xds|secure|monitoring)-port)=\\d+$", "$1=0");
      args.add(a);
    }
    args.addAll(extraArgs);
    CommandLine.ParseResult parsed = Main.commandLine().parseArgs(args.toArray(String[]::new));
    ControlPlaneCommand command = (ControlPlaneCommand) parsed.subcommand().commandSpec().userObject();
    command.pod = () -> pod;
    return command.options();
  }

  static int get(int port, String path) {
    try {
      return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://localhost:" + port + path))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  /** A resource request as RBAC sees it. */
  record ApiRequest(String group, String resource, String namespace, String verb) {
    /** Null for paths that are not resource requests (discovery). */
    static ApiRequest of(String method, String pathAndQuery) {
      String path = pathAndQuery.split("\\?", 2)[0];
      String query = pathAndQuery.contains("?") ? pathAndQuery.split("\\?", 2)[1] : "";
      List<String> p = new ArrayList<>(List.of(path.replaceFirst("^/", "").split("/")));
      String group;
      if (p.get(0).equals("api") && p.size() >= 3) {
        group = "";
        p = p.subList(2, p.size());
      } else if (p.get(0).equals("apis") && p.size() >= 4) {
        group = p.get(1);
        p = p.subList(3, p.size());
      } else {
        return null;
      }
      String namespace = null;
      if (p.get(0).equals("namespaces") && p.size() >= 3) {
        namespace = p.get(1);
        p = p.subList(2, p.size());
      }
      String resource = p.get(0) + (p.size() >= 3 ? "/" + p.get(2) : "");
      boolean named = p.size() >= 2;
      String verb = switch (method) {
        case "GET" -> query.contains("watch=true") ? "watch" : named ? "get" : "list";
        case "POST" -> "create";
        case "PUT" -> "update";
        case "PATCH" -> "patch";
        case "DELETE" -> named ? "delete" : "deletecollection";
        default -> method.toLowerCase();
      };
      return new ApiRequest(group, resource, namespace, verb);
    }

    @Override
    public String toString() {
      return verb + " " + group + "/" + resource + ":" + verb + (namespace == null ? "" : " in " + namespace);
    }
  }

  /** deploy/'s rules: the ClusterRole everywhere, the Role in the system namespace. */
  record Rbac(Set<String> clusterWide, Set<String> systemNamespace) {
    static Rbac ofDeployFolder() {
      return new Rbac(DeployManifestsTest.grants(DeployFolder.only(ClusterRole.class, "weft").getRules()),
          DeployManifestsTest.grants(DeployFolder.only(Role.class, "weft").getRules()));
    }

    boolean allows(ApiRequest r) {
      String grant = r.group() + "/" + r.resource() + ":" + r.verb();
      return clusterWide.contains(grant)
          || (DeployManifestsTest.NS.equals(r.namespace()) && systemNamespace.contains(grant));
    }
  }
}
