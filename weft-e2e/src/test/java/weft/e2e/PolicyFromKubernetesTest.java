package weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.NameResolverRegistry;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.xds.XdsChannelCredentials;
import io.grpc.xds.XdsNameResolverProvider;
import io.grpc.xds.XdsServerBuilder;
import io.grpc.xds.XdsServerCredentials;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.agent.cert.CaClient;
import weft.agent.cert.CertificateFiles;
import weft.agent.cert.CertificateManager;
import weft.agent.cert.TrustRoots;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;

/**
 * Security policy from a Kubernetes config cluster: PeerAuthentication and AuthorizationPolicy
 * created in the API server (fabric8's CRUD server) reach grpc-java workloads with mTLS certificates
 * from the control plane's CA, and deleting a policy takes it away again.
 */
class PolicyFromKubernetesTest {
  static final String HOST = "reviews.default.svc.cluster.local";
  final List<AutoCloseable> closeables = new ArrayList<>();
  final List<Server> servers = new ArrayList<>();
  final List<ManagedChannel> channels = new ArrayList<>();
  KubeCluster cluster;

  @AfterEach
  void stop() throws Exception {
    channels.forEach(ManagedChannel::shutdownNow);
    servers.forEach(Server::shutdownNow);
    for (AutoCloseable c : closeables) c.close();
    if (cluster != null) cluster.close();
  }

  static ResourceDefinitionContext security(String kind, String plural) {
    return new ResourceDefinitionContext.Builder().withGroup("security.istio.io").withVersion("v1").withKind(kind)
        .withPlural(plural).withNamespaced(true).build();
  }

  void create(String kind, String plural, String yaml) {
    GenericKubernetesResource r = cluster.client.getKubernetesSerialization()
        .unmarshal(yaml, GenericKubernetesResource.class);
    cluster.client.genericKubernetesResources(security(kind, plural)).inNamespace(r.getMetadata().getNamespace())
        .resource(r).create();
  }

  CertificateManager certificates(ControlPlane cp, String serviceAccount) throws Exception {
    CaClient ca = new CaClient("localhost:" + cp.securePort(), "istiod.istio-system.svc",
        TrustRoots.of(cp.ca().roots()), () -> "t-" + serviceAccount, "cluster1");
    closeables.add(ca);
    java.util.concurrent.ScheduledExecutorService scheduler =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
    closeables.add(scheduler::shutdownNow);
    CertificateManager manager = CertificateManager.builder(IdentityAndTrustTest.identity(serviceAccount).spiffeId(),
        ca, TrustRoots.of(cp.ca().roots()), new CertificateFiles(Files.createTempDirectory("weft-certs")))
        .ttl(Duration.ofHours(1)).scheduler(scheduler).build();
    closeables.add(0, manager);
    manager.start();
    manager.awaitFirstCertificate(Duration.ofSeconds(20));
    return manager;
  }

  static Status.Code outcome(ManagedChannel ch) {
    try {
      IdentityAndTrustTest.call(ch);
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  @Test
  void anAuthorizationPolicyCreatedInTheApiServerDeniesAndItsDeletionAllowsAgain() throws Exception {
    cluster = new KubeCluster("cluster1");
    int port = Mesh.freePort();
    cluster.service("reviews", "default", 9080, port, List.of("127.0.0.1"));
    create("PeerAuthentication", "peerauthentications", """
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: default, namespace: istio-system}
        spec:
          mtls: {mode: STRICT}
        """);
    Path kubeconfig = Files.createTempFile("weft-kubeconfig", ".yaml");
    Files.writeString(kubeconfig, cluster.kubeconfig("local-token"));
    Path tokens = Files.createTempFile("weft-tokens", ".yaml");
    Files.writeString(tokens, """
        - {token: t-frontend, namespace: default, serviceAccount: frontend}
        - {token: t-reviews, namespace: default, serviceAccount: reviews}
        """);
    ControlPlane cp = ControlPlane.start(ControlPlaneOptions.forKubeconfig(kubeconfig).withPorts(0, 0)
        .withCa(new ControlPlaneOptions.Ca(Files.createTempDirectory("weft-ca"), tokens, 0)));
    closeables.add(0, cp);

    servers.add(XdsServerBuilder.forPort(port, XdsServerCredentials.create(InsecureServerCredentials.create()))
        .overrideBootstrapForTest(IdentityAndTrustTest.bootstrap(cp, "reviews", certificates(cp, "reviews")))
        .addService(IdentityAndTrustTest.whoCalls()).build().start());
    String scheme = "xds-policy-kube";
    NameResolverRegistry.getDefaultRegistry().register(XdsNameResolverProvider.createForTest(scheme,
        IdentityAndTrustTest.bootstrap(cp, "frontend", certificates(cp, "frontend"))));
    ManagedChannel frontend = Grpc.newChannelBuilder(scheme + ":///" + HOST + ":9080",
        XdsChannelCredentials.create(InsecureChannelCredentials.create())).build();
    channels.add(frontend);

    // The caller's SPIFFE id at the server means mTLS, which only the PeerAuthentication asks for
    // (the pod has no tlsMode label): the API server's security config is in force.
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
        .until(() -> IdentityAndTrustTest.call(frontend).equals("spiffe://cluster.local/ns/default/sa/frontend"));

    create("AuthorizationPolicy", "authorizationpolicies", """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: deny-frontend, namespace: default}
        spec:
          selector: {matchLabels: {app: reviews}}
          action: DENY
          rules:
          - from:
            - source: {principals: ["cluster.local/ns/default/sa/frontend"]}
        """);
    await().atMost(Duration.ofSeconds(60)).until(() -> outcome(frontend) == Status.Code.PERMISSION_DENIED);
    assertThat(cp.registry().current().config().authorizationPolicies()).hasSize(1);

    cluster.client.genericKubernetesResources(security("AuthorizationPolicy", "authorizationpolicies"))
        .inNamespace("default").withName("deny-frontend").delete();
    await().atMost(Duration.ofSeconds(60)).until(() -> outcome(frontend) == Status.Code.OK);
  }
}
