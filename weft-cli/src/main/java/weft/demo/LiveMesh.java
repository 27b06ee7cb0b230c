package weft.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.StringValue;
import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.stub.ClientCalls;
import io.grpc.xds.XdsChannelCredentials;
import io.grpc.xds.XdsServerBuilder;
import io.grpc.xds.XdsServerCredentials;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import weft.agent.WorkloadIdentity;
import weft.agent.bootstrap.XdsBootstrap;
import weft.agent.bootstrap.XdsTransport;
import weft.agent.cert.CaClient;
import weft.agent.cert.CertificateFiles;
import weft.agent.cert.CertificateManager;
import weft.agent.cert.TrustRoots;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;
import weft.gateway.Gateway;
import weft.gateway.GatewayOptions;

/**
 * The demo's mesh, running: a control plane with its CA on the generated config of two clusters,
 * network-2's east-west gateway, the three echo workloads as xDS servers with mTLS, and the
 * proxyless client in network-1, us-east/zone-a. {@link Story} changes it step by step.
 */
final class LiveMesh implements AutoCloseable {
  static final String CLIENT_POD = "demo-client";

  private final DemoFolders folders;
  private final Path cluster1;
  private final Path cluster2;
  private final Map<String, Integer> ports = new LinkedHashMap<>();
  private final Map<String, Server> servers = new LinkedHashMap<>();
  private final Map<String, CertificateManager> certificates = new LinkedHashMap<>();
  private final Set<String> notReady = new TreeSet<>();
  private final List<ScheduledExecutorService> schedulers = new ArrayList<>();
  private ControlPlane cp;
  private Gateway gateway;
  private ManagedChannel client;

  private LiveMesh(DemoFolders folders) throws IOException {
    this.folders = folders;
    this.cluster1 = folders.newFolder("cluster1");
    this.cluster2 = folders.newFolder("cluster2");
  }

  /** Starts everything; on failure, stops what had started. */
  static LiveMesh start(DemoFolders folders, PrintStream out) throws Exception {
    LiveMesh mesh = new LiveMesh(folders);
    try {
      mesh.startAll(out);
      return mesh;
    } catch (Exception | Error e) {
      mesh.close();
      throw e;
    }
  }

  private void startAll(PrintStream out) throws Exception {
    for (String[] w : DemoMesh.WORKLOADS) ports.put(w[0], freePort());
    int gatewayPort = freePort();
    DemoMesh.write(cluster1, cluster2, ports, gatewayPort);
    DemoMesh.writeDestinationRule(cluster1, false);
    Path tokens = folders.root().resolve("ca-tokens.yaml");
    Files.writeString(tokens, """
        - {token: demo-echo, namespace: default, serviceAccount: echo}
        - {token: demo-client, namespace: default, serviceAccount: demo-client}
        """);
    cp = ControlPlane.start(ControlPlaneOptions.forConfigDir(cluster1).withPorts(0, 0)
        .withRemoteConfigDirs(Map.of("cluster2", cluster2))
        .withCa(new ControlPlaneOptions.Ca(folders.newFolder("ca"), tokens, 0)));
    out.printf("control plane: xDS on localhost:%d, CA on localhost:%d, status on http://localhost:%d/debug/status%n",
        cp.xdsPort(), cp.securePort(), cp.monitoringPort());
    out.printf("clusters: cluster1 = %s (network-1: echo-a in us-east/zone-a, echo-b in us-east/zone-b)%n", cluster1);
    out.printf("          cluster2 = %s (network-2: echo-west in us-west/zone-c, behind an east-west gateway)%n",
        cluster2);
    gateway = Gateway.start(GatewayOptions.defaults("localhost:" + cp.xdsPort(), "eastwest-1",
        DemoMesh.GATEWAY_ADDRESS).withCluster("cluster2", "network-2")
        .withListen(DemoMesh.GATEWAY_ADDRESS, gatewayPort).withXdsListenerPort(15443).withHealthPort(0));
    out.printf("east-west gateway for network-2 on %s:%d: passes mTLS through by SNI%n", DemoMesh.GATEWAY_ADDRESS,
        gatewayPort);
    for (String[] w : DemoMesh.WORKLOADS) startServer(w[0]);
    CertificateManager clientCerts = certificates(CLIENT_POD, "demo-client", "cluster1", "network-1");
    Map<String, Object> bootstrap = bootstrap(clientCerts, CLIENT_POD, "cluster1", "network-1", "us-east/zone-a");
    System.setProperty("io.grpc.xds.bootstrapConfig", new ObjectMapper().writeValueAsString(bootstrap));
    String target = "xds:///" + DemoMesh.HOST + ":" + DemoMesh.SERVICE_PORT;
    client = Grpc.newChannelBuilder(target, XdsChannelCredentials.create(InsecureChannelCredentials.create())).build();
    out.printf("client: sa/demo-client in network-1, us-east/zone-a, calling %s over mTLS%n", target);
  }

  ControlPlane controlPlane() {
    return cp;
  }

  Gateway gateway() {
    return gateway;
  }

  /** One call from the client; it waits for a ready endpoint rather than fail while the client moves. */
  String call(Duration timeout) {
    return ClientCalls.blockingUnaryCall(client, EchoService.WHO, CallOptions.DEFAULT.withWaitForReady()
        .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS), StringValue.of("hi")).getValue();
  }

  /** {@code n} calls: the answers per endpoint. */
  Map<String, Integer> sample(int n, Duration timeout) {
    Map<String, Integer> counts = new TreeMap<>();
    for (int i = 0; i < n; i++) counts.merge(call(timeout), 1, Integer::sum);
    return counts;
  }

  /** A workload's server stops, and (as Kubernetes would) its endpoint is then marked not ready. */
  void stopWorkload(String name) throws IOException {
    Server s = servers.remove(name);
    if (s != null) s.shutdownNow();
    notReady.add(name);
    writeWorkloads(name);
  }

  /** A workload's server starts again and, once it serves, its endpoint is marked ready. */
  void startWorkload(String name) throws Exception {
    startServer(name);
    notReady.remove(name);
    writeWorkloads(name);
  }

  void split(int v1, int v2) throws IOException {
    DemoMesh.writeSplit(cluster1, v1, v2);
  }

  /** Removes the VirtualService and turns on outlier detection, which turns on locality failover. */
  void localityFailover() throws IOException {
    DemoMesh.removeSplit(cluster1);
    DemoMesh.writeDestinationRule(cluster1, true);
  }

  private void writeWorkloads(String name) throws IOException {
    for (String[] w : DemoMesh.WORKLOADS) {
      if (w[0].equals(name)) {
        DemoMesh.writeWorkloads(w[4].equals("cluster1") ? cluster1 : cluster2, w[4], ports, notReady);
      }
    }
  }

  /** An echo workload as an xDS server with its own certificate: mTLS is what lets it cross networks. */
  private void startServer(String name) throws Exception {
    String cluster = clusterOf(name);
    String network = cluster.equals("cluster1") ? "network-1" : "network-2";
    CertificateManager certs = certificates.containsKey(name) ? certificates.get(name)
        : certificates(name, "echo", cluster, network);
    Server server = XdsServerBuilder.forPort(ports.get(name),
            XdsServerCredentials.create(InsecureServerCredentials.create()))
        .overrideBootstrapForTest(bootstrap(certs, name, cluster, network, ""))
        .addService(EchoService.named(name))
        .build()
        .start();
    servers.put(name, server);
  }

  private static String clusterOf(String name) {
    for (String[] w : DemoMesh.WORKLOADS) if (w[0].equals(name)) return w[4];
    throw new IllegalArgumentException("no demo workload " + name);
  }

  /** What the agent does for a workload: its own key, a certificate for its identity, renewed. */
  private CertificateManager certificates(String pod, String serviceAccount, String cluster, String network)
      throws Exception {
    WorkloadIdentity id = identity(serviceAccount, pod, cluster, network, "");
    CaClient ca = new CaClient("localhost:" + cp.securePort(), "istiod.istio-system.svc",
        TrustRoots.of(cp.ca().roots()), () -> serviceAccount.equals("echo") ? "demo-echo" : "demo-client", cluster);
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "weft-demo-certs");
      t.setDaemon(true);
      return t;
    });
    schedulers.add(scheduler);
    CertificateManager certs = CertificateManager.builder(id.spiffeId(), ca, TrustRoots.of(cp.ca().roots()),
        new CertificateFiles(folders.newFolder("certs-" + pod))).ttl(Duration.ofHours(1))
        .scheduler(scheduler).build();
    certificates.put(pod, certs);
    certs.start();
    certs.awaitFirstCertificate(Duration.ofSeconds(60));
    return certs;
  }

  private static WorkloadIdentity identity(String serviceAccount, String pod, String cluster, String network,
      String locality) {
    return WorkloadIdentity.builder().trustDomain("cluster.local").namespace("default").serviceAccount(serviceAccount)
        .podName(pod).ip("127.0.0.1").clusterId(cluster).network(network).locality(locality)
        .labels(Map.of("app", serviceAccount, "security.istio.io/tlsMode", "istio")).build();
  }

  private Map<String, Object> bootstrap(CertificateManager certs, String pod, String cluster, String network,
      String locality) {
    CertificateFiles f = certs.files();
    String sa = pod.equals(CLIENT_POD) ? "demo-client" : "echo";
    return XdsBootstrap.builder().xdsServer("localhost:" + cp.xdsPort(), XdsTransport.PLAINTEXT)
        .identity(identity(sa, pod, cluster, network, locality))
        .certificateFiles(f.certificateChainFile(), f.privateKeyFile(), f.rootCertificateFile())
        .build().toMap();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (client != null) client.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    for (Server s : servers.values()) s.shutdownNow();
    servers.clear();
    for (CertificateManager c : certificates.values()) c.close();
    // A certificate request still in flight would write its files after the folder is deleted.
    for (ScheduledExecutorService s : schedulers) s.shutdownNow();
    for (ScheduledExecutorService s : schedulers) s.awaitTermination(10, TimeUnit.SECONDS);
    if (gateway != null) gateway.close();
    if (cp != null) cp.close();
  }
}
