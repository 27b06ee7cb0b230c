package weft.e2e;

import com.google.protobuf.StringValue;
import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.NameResolverRegistry;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.grpc.xds.XdsNameResolverProvider;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;
import weft.demo.EchoService;
import weft.demo.GrpcBootstrap;

/**
 * A running single-cluster mesh for scenario tests: a config folder, our control plane on free
 * ports, echo servers on loopback addresses, and proxyless grpc-java clients with their own node
 * identities.
 */
final class Mesh implements AutoCloseable {
  private static final AtomicInteger SCHEMES = new AtomicInteger();

  final Path dir;
  final ControlPlane controlPlane;
  final int port;
  private final List<Server> servers = new ArrayList<>();
  private final List<ManagedChannel> channels = new ArrayList<>();

  Mesh() throws IOException {
    dir = Files.createTempDirectory("weft-e2e");
    port = freePort();
    controlPlane = ControlPlane.start(ControlPlaneOptions.forConfigDir(dir).withPorts(0, 0));
  }

  /** Clients (and status reads) for a control plane started elsewhere; no config folder of its own. */
  Mesh(ControlPlane running) throws IOException {
    dir = Files.createTempDirectory("weft-e2e");
    port = 0;
    controlPlane = running;
  }

  /** Closes this server with the others. */
  void track(Server server) {
    servers.add(server);
  }

  /** Closes the clients and servers but not the control plane (for restarts). */
  void closeClients() {
    for (ManagedChannel c : channels) c.shutdownNow();
    channels.clear();
    for (Server s : servers) s.shutdownNow();
    servers.clear();
  }

  /** Starts an echo server answering with {@code name} on {@code ip}:{@link #port}. */
  Server echo(String name, String ip) throws IOException {
    Server s = NettyServerBuilder.forAddress(new InetSocketAddress(ip, port))
        .addService(EchoService.named(name)).build().start();
    servers.add(s);
    return s;
  }

  /** Writes a config file atomically, as a careful operator or a config sync tool would. */
  void write(String file, String yaml) throws IOException {
    Path tmp = dir.resolve("." + file + ".tmp");
    Files.writeString(tmp, yaml);
    Files.move(tmp, dir.resolve(file), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  void delete(String file) throws IOException {
    Files.deleteIfExists(dir.resolve(file));
  }

  /** A proxyless client in {@code namespace}, with its own xDS client (own scheme, own bootstrap). */
  ManagedChannel client(String namespace, String host, int servicePort) {
    return client(namespace, host, servicePort, "cluster1", "");
  }

  /** A proxyless client with its own cluster id and locality ({@code region/zone/subzone}). */
  ManagedChannel client(String namespace, String host, int servicePort, String clusterId, String locality) {
    String scheme = "xds-e2e-" + SCHEMES.incrementAndGet();
    Map<String, Object> bootstrap = GrpcBootstrap.of("localhost:" + controlPlane.xdsPort(), "client-" + scheme,
        namespace, "127.0.0.1", clusterId, "", Map.of("app", "client"), locality);
    NameResolverRegistry.getDefaultRegistry().register(XdsNameResolverProvider.createForTest(scheme, bootstrap));
    ManagedChannel channel = Grpc.newChannelBuilder(scheme + ":///" + host + ":" + servicePort,
        InsecureChannelCredentials.create()).build();
    channels.add(channel);
    return channel;
  }

  /**
   * A proxyless client that takes its TLS from xDS (grpc-java's {@code XdsChannelCredentials},
   * plaintext where the cluster asks for none), as a workload that lets the mesh originate TLS is built.
   */
  ManagedChannel xdsCredentialsClient(String namespace, String host, int servicePort) {
    String scheme = "xds-e2e-" + SCHEMES.incrementAndGet();
    Map<String, Object> bootstrap = GrpcBootstrap.of("localhost:" + controlPlane.xdsPort(), "client-" + scheme,
        namespace, "127.0.0.1", "cluster1", "", Map.of("app", "client"), "");
    NameResolverRegistry.getDefaultRegistry().register(XdsNameResolverProvider.createForTest(scheme, bootstrap));
    ManagedChannel channel = Grpc.newChannelBuilder(scheme + ":///" + host + ":" + servicePort,
        io.grpc.xds.XdsChannelCredentials.create(InsecureChannelCredentials.create())).build();
    channels.add(channel);
    return channel;
  }

  static String call(ManagedChannel channel) {
    return call(channel, Map.of());
  }

  static String call(ManagedChannel channel, Map<String, String> headers) {
    Metadata md = new Metadata();
    headers.forEach((k, v) -> md.put(Metadata.Key.of(k, Metadata.ASCII_STRING_MARSHALLER), v));
    io.grpc.Channel ch = io.grpc.ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(md));
    return ClientCalls.blockingUnaryCall(ch, EchoService.WHO,
        CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS), StringValue.of("hi")).getValue();
  }

  /** Calls {@code n} times and counts the answers per server. */
  static Map<String, Integer> spread(ManagedChannel channel, int n, Map<String, String> headers) {
    Map<String, Integer> counts = new TreeMap<>();
    for (int i = 0; i < n; i++) counts.merge(call(channel, headers), 1, Integer::sum);
    return counts;
  }

  String debugStatus() throws IOException, InterruptedException {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://localhost:" + controlPlane.monitoringPort() + "/debug/status")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  String metrics() throws IOException, InterruptedException {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://localhost:" + controlPlane.monitoringPort() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  /**
   * A port for a server a test starts later (its number must go into config first). Taken below the
   * kernel's ephemeral range, so no outgoing connection on the machine can take it in between (a
   * port from {@code new ServerSocket(0)} can be, and was, by another build's connections), at
   * random so that test runs side by side rarely try the same one, never twice in one JVM, and
   * checked free on every address, as the servers bind.
   */
  static synchronized int freePort() throws IOException {
    int low = 20000;
    int high = Math.max(low + 1000, ephemeralLow());
    for (int attempt = 0; attempt < 1000; attempt++) {
      int port = java.util.concurrent.ThreadLocalRandom.current().nextInt(low, high);
      if (!HANDED_OUT.add(port)) continue;
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new java.net.InetSocketAddress(port));
        return port;
      } catch (IOException inUse) {
        // taken: try another
      }
    }
    throw new IOException("no free port in " + low + ".." + high);
  }

  private static final java.util.Set<Integer> HANDED_OUT = new java.util.HashSet<>();

  private static int ephemeralLow() {
    try {
      return Integer.parseInt(Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim().split("\\s+")[0]);
    } catch (IOException | RuntimeException notLinux) {
      return 32768;
    }
  }

  @Override
  public void close() throws Exception {
    for (ManagedChannel c : channels) c.shutdownNow();
    for (Server s : servers) s.shutdownNow();
    controlPlane.close();
    try (var files = Files.walk(dir)) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}
