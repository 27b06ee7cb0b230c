package weft.e2e;

import com.google.protobuf.StringValue;
import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.NameResolverRegistry;
import io.grpc.Server;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.grpc.xds.XdsChannelCredentials;
import io.grpc.xds.XdsNameResolverProvider;
import io.grpc.xds.XdsServerBuilder;
import io.grpc.xds.XdsServerCredentials;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
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

/**
 * A workload process for the network-namespace scenario, started by the test inside a namespace
 * with {@code ip netns exec}: it gets its certificate from the control plane's CA, then serves
 * (answering "NAME|CALLER_SPIFFE"), calls in a loop, or both (one line per call: "OK answer" or
 * "FAIL status") until its standard input closes.
 *
 * <p>Arguments: MODE (server, client, both) NAME IP NETWORK SERVICE_ACCOUNT XDS CA ROOT_PEM TOKEN PORT
 * [CALL_PORT]: the port served, and the service port called (PORT unless given)
 */
public final class NetworkWorkload {
  private NetworkWorkload() {}

  public static void main(String[] a) throws Exception {
    try {
      run(a);
    } catch (Throwable t) {
      // The certificate scheduler's thread would keep the JVM alive: end it, so the test sees it.
      t.printStackTrace();
      System.exit(1);
    }
  }

  private static void run(String[] a) throws Exception {
    String mode = a[0];
    String name = a[1];
    String ip = a[2];
    String network = a[3];
    String sa = a[4];
    String xds = a[5];
    String ca = a[6];
    Path rootPem = Path.of(a[7]);
    String token = a[8];
    int port = Integer.parseInt(a[9]);
    WorkloadIdentity id = WorkloadIdentity.builder().trustDomain("cluster.local").namespace("default")
        .serviceAccount(sa).podName(name).ip(ip).clusterId(network.equals("network-1") ? "cluster1" : "cluster2")
        .network(network).labels(Map.of("app", sa, "security.istio.io/tlsMode", "istio")).build();
    CaClient caClient = new CaClient(ca, "istiod.istio-system.svc", TrustRoots.file(rootPem), () -> token,
        id.clusterId());
    CertificateManager certs = CertificateManager.builder(id.spiffeId(), caClient, TrustRoots.file(rootPem),
        new CertificateFiles(Files.createTempDirectory("weft-" + name))).ttl(Duration.ofHours(1))
        .scheduler(Executors.newSingleThreadScheduledExecutor()).build();
    certs.start();
    certs.awaitFirstCertificate(Duration.ofMinutes(3)); // the CA may be slow on a busy machine
    CertificateFiles f = certs.files();
    Map<String, Object> bootstrap = XdsBootstrap.builder().xdsServer(xds, XdsTransport.PLAINTEXT).identity(id)
        .certificateFiles(f.certificateChainFile(), f.privateKeyFile(), f.rootCertificateFile()).build().toMap();
    serveAndCall(mode, name, port, a.length > 10 ? Integer.parseInt(a[10]) : port, bootstrap);
  }

  /**
   * Serves on {@code port} ("server"), calls reviews on {@code callPort} ("client") or both ("both")
   * with the bootstrap given, printing READY once started, until standard input closes.
   */
  static void serveAndCall(String mode, String name, int port, int callPort, Map<String, ?> bootstrap)
      throws Exception {
    BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in));
    Server server = null;
    if (mode.equals("server") || mode.equals("both")) {
      server = XdsServerBuilder.forPort(port, XdsServerCredentials.create(InsecureServerCredentials.create()))
          .overrideBootstrapForTest(bootstrap)
          .addService(IdentityAndTrustTest.whoCalls(name))
          .build().start();
    }
    if (mode.equals("client") || mode.equals("both")) {
      NameResolverRegistry.getDefaultRegistry().register(XdsNameResolverProvider.createForTest("xds-ns", bootstrap));
      ManagedChannel channel = Grpc.newChannelBuilder("xds-ns:///reviews.default.svc.cluster.local:" + callPort,
          XdsChannelCredentials.create(InsecureChannelCredentials.create())).build();
      // One call at a time with a short rest between them, from a scheduler: a steady stream of
      // lines for the test to read, without spinning a core. A call waits (for the first xDS
      // answers on a busy machine, say) rather than fail: a FAIL line is a real failure.
      ScheduledExecutorService pacer = Executors.newSingleThreadScheduledExecutor();
      pacer.scheduleWithFixedDelay(() -> {
        try {
          String who = ClientCalls.blockingUnaryCall(channel, weft.demo.EchoService.WHO,
              CallOptions.DEFAULT.withWaitForReady().withDeadlineAfter(2, TimeUnit.MINUTES), StringValue.of("hi"))
              .getValue();
          System.out.println("OK " + who);
        } catch (StatusRuntimeException e) {
          System.out.println("FAIL " + e.getStatus());
        }
        System.out.flush();
      }, 0, 20, TimeUnit.MILLISECONDS);
    }
    System.out.println("READY " + name);
    System.out.flush();
    while (stdin.readLine() != null) {
      // runs until the test closes our input
    }
    if (server != null) server.shutdownNow();
    System.exit(0);
  }
}
