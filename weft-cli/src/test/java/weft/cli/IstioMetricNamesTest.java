package weft.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;

/**
 * /metrics holds every series Istio's "Istio Control Plane Dashboard" queries (its pilot.libsonnet and
 * lib/queries.libsonnet), under Istio's exact names, labels and buckets, after real work: a Kubernetes
 * API server's events, an xDS client's requests, a change pushed to it and its NACK.
 */
class IstioMetricNamesTest {
  static final Duration PATIENCE = Duration.ofSeconds(90);
  static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  static final ResourceDefinitionContext DR = new ResourceDefinitionContext.Builder()
      .withGroup("networking.istio.io").withVersion("v1").withKind("DestinationRule").withPlural("destinationrules")
      .withNamespaced(true).build();
  static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  static {
    MOCK_LOG.setLevel(java.util.logging.Level.WARNING);
  }

  @TempDir
  Path dir;

  /** One sample: name, labels, value. */
  record Sample(String name, Map<String, String> labels, double value) {}

  @Test
  void theDashboardsSeriesAreThereWithIstiosNamesLabelsAndBuckets() throws Exception {
    KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
        new KubernetesCrudDispatcher(), false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    server.expectCustomResource(new CustomResourceDefinitionContext.Builder().withGroup("networking.istio.io")
        .withVersion("v1").withKind("DestinationRule").withPlural("destinationrules").withScope("Namespaced")
        .withName("destinationrules.networking.istio.io").build());
    ManagedChannel channel = null;
    try (NamespacedKubernetesClient admin = server.createClient()) {
      admin.services().inNamespace("default").resource(service("reviews", "10.0.0.7")).create();
      admin.genericKubernetesResources(DR).inNamespace("default").resource(
          io.fabric8.kubernetes.client.utils.Serialization.unmarshal("""
              apiVersion: networking.istio.io/v1
              kind: DestinationRule
              metadata: {name: reviews, namespace: default}
              spec: {host: reviews.default.svc.cluster.local}
              """, GenericKubernetesResource.class)).create();
      Path kubeconfig = Files.writeString(dir.resolve("kubeconfig"), """
          apiVersion: v1
          kind: Config
          clusters:
          - name: c
            cluster: {server: "http://127.0.0.1:%d"}
          contexts:
          - name: c
            context: {cluster: c, user: u}
          current-context: c
          users:
          - name: u
            user: {token: t}
          """.formatted(server.getPort()));
      try (ControlPlane cp = ControlPlane.start(ControlPlaneOptions.forKubeconfig(kubeconfig).withPorts(0, 0))) {
        // A proxy asks for clusters, is pushed a change, and rejects it.
        channel = NettyChannelBuilder.forAddress("localhost", cp.xdsPort()).usePlaintext().build();
        LinkedBlockingQueue<DiscoveryResponse> received = new LinkedBlockingQueue<>();
        java.util.concurrent.atomic.AtomicReference<Throwable> streamError = new java.util.concurrent.atomic.AtomicReference<>();
        StreamObserver<DiscoveryRequest> requests = AggregatedDiscoveryServiceGrpc.newStub(channel)
            .streamAggregatedResources(new StreamObserver<>() {
              @Override
              public void onNext(DiscoveryResponse r) {
                received.add(r);
              }

              @Override
              public void onError(Throwable t) {
                streamError.set(t);
              }

              @Override
              public void onCompleted() {}
            });
        Node node = Node.newBuilder().setId("sidecar~10.0.0.9~ratings-1.default~default.svc.cluster.local")
            .setMetadata(Struct.newBuilder().putFields("NAMESPACE", Value.newBuilder().setStringValue("default")
                .build())).build();
        requests.onNext(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(CDS).build());
        DiscoveryResponse first = received.poll(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        assertThat(first).isNotNull();
        requests.onNext(DiscoveryRequest.newBuilder().setTypeUrl(CDS).setVersionInfo(first.getVersionInfo())
            .setResponseNonce(first.getNonce()).build());
        admin.services().inNamespace("default").resource(service("details", "10.0.0.8")).create();
        DiscoveryResponse pushed = received.poll(PATIENCE.toSeconds(), TimeUnit.SECONDS);
        assertThat(pushed).as("the change is pushed (stream ended: %s)", streamError.get()).isNotNull();
        requests.onNext(DiscoveryRequest.newBuilder().setTypeUrl(CDS).setVersionInfo(first.getVersionInfo())
            .setResponseNonce(pushed.getNonce())
            .setErrorDetail(com.google.rpc.Status.newBuilder().setCode(3).setMessage("rejected by the test"))
            .build());
        await("the NACK counted").atMost(PATIENCE)
            .until(() -> find(samples(cp), "pilot_total_xds_rejects", Map.of("type", "cds")) != null);
        String text = scrape(cp);
        List<Sample> s = samples(text);

        // The dashboard's queries, one by one.
        assertThat(find(s, "istio_build", Map.of("component", "pilot")).value()).isEqualTo(1);
        assertThat(find(s, "istio_build", Map.of("component", "pilot")).labels()).containsKey("tag");
        assertThat(find(s, "pilot_xds_pushes", Map.of("type", "cds")).value()).isGreaterThanOrEqualTo(1);
        assertThat(find(s, "pilot_k8s_reg_events", Map.of("type", "Services", "event", "add")).value())
            .isGreaterThanOrEqualTo(1);
        assertThat(find(s, "pilot_k8s_cfg_events", Map.of("type", "DestinationRule", "event", "add")).value())
            .isEqualTo(1);
        assertThat(find(s, "pilot_xds", Map.of()).value()).isEqualTo(1);
        assertThat(find(s, "pilot_push_triggers", Map.of("type", "service")).value()).isGreaterThanOrEqualTo(1);
        assertThat(find(s, "pilot_total_xds_rejects", Map.of("type", "cds")).value()).isEqualTo(1);
        assertThat(buckets(s, "pilot_proxy_convergence_time_bucket", Map.of()))
            .containsExactly(.1, .5, 1.0, 3.0, 5.0, 10.0, 20.0, 30.0, Double.POSITIVE_INFINITY);
        assertThat(find(s, "pilot_proxy_convergence_time_count", Map.of()).value()).isGreaterThanOrEqualTo(1);
        assertThat(find(s, "pilot_total_xds_internal_errors", Map.of()).value()).isZero();
        assertThat(buckets(s, "pilot_xds_push_time_bucket", Map.of("type", "cds")))
            .containsExactly(.01, .1, 1.0, 3.0, 5.0, 10.0, 20.0, 30.0, Double.POSITIVE_INFINITY);
        assertThat(buckets(s, "pilot_xds_config_size_bytes_bucket", Map.of("type", "cds")))
            .containsExactly(1.0, 10000.0, 1000000.0, 4000000.0, 10000000.0, 40000000.0, Double.POSITIVE_INFINITY);
        assertThat(find(s, "pilot_xds_config_size_bytes_sum", Map.of("type", "cds")).value()).isPositive();
        assertThat(find(s, "citadel_server_csr_count", Map.of())).isNotNull();
        assertThat(find(s, "citadel_server_success_cert_issuance_count", Map.of())).isNotNull();
        assertThat(find(s, "istiod_managed_clusters", Map.of("cluster_type", "local")).value()).isEqualTo(1);
        assertThat(find(s, "istiod_managed_clusters", Map.of("cluster_type", "remote")).value()).isZero();
        assertThat(find(s, "remote_cluster_sync_timeouts_total", Map.of()).value()).isZero();

        // Istio's types, and no suffix Istio does not have.
        for (String counter : List.of("pilot_xds_pushes", "pilot_k8s_reg_events", "pilot_k8s_cfg_events",
            "pilot_push_triggers", "pilot_total_xds_rejects", "pilot_total_xds_internal_errors",
            "citadel_server_csr_count", "citadel_server_success_cert_issuance_count")) {
          assertThat(text).contains("# TYPE " + counter + " counter\n").doesNotContain(counter + "_total");
        }
        assertThat(text).contains("# TYPE pilot_xds_push_time histogram\n")
            .contains("# TYPE remote_cluster_sync_timeouts_total counter\n")
            .doesNotContain("pilot_xds_push_time_seconds").doesNotContain("pilot_proxy_convergence_time_seconds");
        // Weft's own series stay, and the JVM's and the process's are there.
        assertThat(s).extracting(Sample::name).contains("weft_xds_pushes_total", "weft_xds_connected_proxies",
            "jvm_memory_used_bytes", "jvm_threads_live_threads", "process_uptime_seconds", "process_cpu_usage");
        requests.onCompleted();
      }
    } finally {
      if (channel != null) channel.shutdownNow();
      server.destroy();
    }
  }

  static io.fabric8.kubernetes.api.model.Service service(String name, String ip) {
    return new ServiceBuilder().withNewMetadata().withName(name).withNamespace("default").endMetadata()
        .withNewSpec().withClusterIP(ip).addNewPort().withName("http").withPort(9080).endPort().endSpec().build();
  }

  static String scrape(ControlPlane cp) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://localhost:"
        + cp.monitoringPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  static List<Sample> samples(ControlPlane cp) throws Exception {
    return samples(scrape(cp));
  }

  private static final Pattern LINE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)\\})? (\\S+)$");
  private static final Pattern LABEL = Pattern.compile("(\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  /** The Prometheus text format's samples. */
  static List<Sample> samples(String text) {
    List<Sample> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.startsWith("#") || line.isBlank()) continue;
      Matcher m = LINE.matcher(line);
      assertThat(m.matches()).as("a sample line: " + line).isTrue();
      Map<String, String> labels = new LinkedHashMap<>();
      if (m.group(2) != null) {
        Matcher l = LABEL.matcher(m.group(2));
        while (l.find()) labels.put(l.group(1), l.group(2));
      }
      String v = m.group(3);
      out.add(new Sample(m.group(1), labels, v.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(v)));
    }
    return out;
  }

  /** The one sample of this name whose labels include these (null when none). */
  static Sample find(List<Sample> samples, String name, Map<String, String> labels) {
    List<Sample> found = samples.stream().filter(x -> x.name().equals(name))
        .filter(x -> x.labels().entrySet().containsAll(labels.entrySet())).toList();
    if (found.size() > 1) throw new AssertionError(found.size() + " samples of " + name + labels + ": " + found);
    return found.isEmpty() ? null : found.get(0);
  }

  static List<Double> buckets(List<Sample> samples, String name, Map<String, String> labels) {
    return samples.stream().filter(x -> x.name().equals(name))
        .filter(x -> x.labels().entrySet().containsAll(labels.entrySet()))
        .map(x -> x.labels().get("le").equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(x.labels()
            .get("le"))).toList();
  }
}
