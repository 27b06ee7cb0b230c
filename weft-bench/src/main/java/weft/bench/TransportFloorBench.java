package weft.bench;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What grpc-java alone costs a server for one endpoint change pushed to S full-mesh sidecars, with
 * no control plane behind it: the floor under {@code full-mesh}'s CPU per change.
 *
 * <p>A server on the real ADS method sends each stream, from a pool of as many threads as cores
 * (as Weft's push pool), a response holding one assignment of E endpoints, built per stream with
 * its own nonce; each client answers with the ACK a full-mesh Envoy sends (every EDS name of the
 * mesh, N names), which the server reads as bytes (no parsing at all) and hands to the pool, as
 * Weft hands a request to its stream's executor. The server's CPU is the CPU time of its own
 * threads (event loops and pool, system time of their syscalls included), read per round with
 * {@link ThreadMXBean}; the clients' event loops are counted apart. Everything runs in this JVM on
 * 127.0.0.1, so the server shares the cores with its clients as the control plane does in
 * {@code full-mesh}.
 */
public final class TransportFloorBench {
  private static final String SERVER_THREADS = "floor-server-";
  private static final String CLIENT_THREADS = "floor-client-";
  private static final String EDS = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

  private TransportFloorBench() {}

  public static void main(String[] args) throws Exception {
    Options o = Options.parse(args, Set.of(),
        Set.of("--streams", "--services", "--endpoints", "--rounds", "--warmup"));
    int streams = o.integer("--streams", 1000);
    int services = o.integer("--services", 1000);
    int endpoints = o.integer("--endpoints", 10);
    int rounds = o.integer("--rounds", 100);
    int warmup = o.integer("--warmup", 30);
    System.out.println(Machine.describe("(none: grpc-java alone, server and clients in this JVM)"));
    System.out.println("transport: " + (Epoll.isAvailable() ? "epoll" : "nio"));
    System.out.printf("%d streams; per round one response of one assignment (%d endpoints) to each, and an ACK"
        + " of %d names from each%n", streams, endpoints, services);

    ExecutorService pool = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors(),
        named(SERVER_THREADS + "pool-"));
    Floor floor = new Floor(pool);
    MethodDescriptor<byte[], DiscoveryResponse> serverMethod =
        AggregatedDiscoveryServiceGrpc.getStreamAggregatedResourcesMethod().toBuilder(BYTES,
            ProtoUtils.marshaller(DiscoveryResponse.getDefaultInstance())).build();
    ServerServiceDefinition service = ServerServiceDefinition.builder(AggregatedDiscoveryServiceGrpc.SERVICE_NAME)
        .addMethod(serverMethod, ServerCalls.asyncBidiStreamingCall(floor::connect)).build();
    // Epoll where Netty has it, as grpc-java picks it for Weft's server by default.
    boolean epoll = Epoll.isAvailable();
    EventLoopGroup serverLoops = loops(epoll, SERVER_THREADS + "io-");
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .channelType(epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class)
        .bossEventLoopGroup(serverLoops).workerEventLoopGroup(serverLoops)
        .directExecutor().addService(service).build().start();

    byte[] ack = ack(services);
    MethodDescriptor<byte[], byte[]> clientMethod =
        AggregatedDiscoveryServiceGrpc.getStreamAggregatedResourcesMethod().toBuilder(BYTES, BYTES).build();
    EventLoopGroup clientLoops = loops(epoll, CLIENT_THREADS);
    List<ManagedChannel> channels = new ArrayList<>();
    java.util.concurrent.atomic.AtomicBoolean closing = new java.util.concurrent.atomic.AtomicBoolean();
    AtomicReference<CountDownLatch> received = new AtomicReference<>(new CountDownLatch(0));
    for (int i = 0; i < streams; i++) {
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext()
          .channelType(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
          .eventLoopGroup(clientLoops).directExecutor().build();
      channels.add(channel);
      AtomicReference<StreamObserver<byte[]>> requests = new AtomicReference<>();
      requests.set(ClientCalls.asyncBidiStreamingCall(channel.newCall(clientMethod, CallOptions.DEFAULT),
          new StreamObserver<byte[]>() {
            @Override
            public void onNext(byte[] response) {
              requests.get().onNext(ack);
            }

            @Override
            public void onError(Throwable t) {
              if (!closing.get()) System.err.println("stream failed: " + t);
            }

            @Override
            public void onCompleted() {}
          }));
      requests.get().onNext(ack);
    }
    floor.awaitConnected(streams);
    System.out.println("all streams connected");

    ClusterLoadAssignment assignment = assignment(endpoints);
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    List<Long> serverNanos = new ArrayList<>();
    List<Long> clientNanos = new ArrayList<>();
    List<Long> wallNanos = new ArrayList<>();
    for (int round = 0; round < warmup + rounds; round++) {
      long server0 = cpu(threads, SERVER_THREADS);
      long client0 = cpu(threads, CLIENT_THREADS);
      long start = System.nanoTime();
      CountDownLatch acked = floor.expect(streams);
      String nonce = Integer.toString(round);
      Any resource = Any.pack(assignment.toBuilder().setClusterName("outbound|8080||svc-" + round).build());
      floor.pushAll(resource, nonce);
      if (!acked.await(60, TimeUnit.SECONDS)) throw new IllegalStateException("round " + round + " never completed");
      long wall = System.nanoTime() - start;
      if (round >= warmup) {
        serverNanos.add(cpu(threads, SERVER_THREADS) - server0);
        clientNanos.add(cpu(threads, CLIENT_THREADS) - client0);
        wallNanos.add(wall);
      }
    }
    System.out.printf("over %d rounds after %d warm-up ones:%n", rounds, warmup);
    System.out.printf("  server CPU per round (its event loops and pool): mean %.1f ms, p50 %.1f ms%n",
        mean(serverNanos), p50(serverNanos));
    System.out.printf("  clients' CPU per round: mean %.1f ms; wall per round: mean %.1f ms, p50 %.1f ms%n",
        mean(clientNanos), mean(wallNanos), p50(wallNanos));
    System.out.println("load average at the end: " + Machine.loadAverage());
    closing.set(true);
    channels.forEach(ManagedChannel::shutdownNow);
    server.shutdownNow();
    pool.shutdownNow();
    clientLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    serverLoops.shutdownGracefully(0, 1, TimeUnit.SECONDS);
  }

  /** The server: one observer per stream; every ACK is handed to the pool before it counts. */
  private static final class Floor {
    private final ExecutorService pool;
    private final ConcurrentLinkedQueue<StreamObserver<DiscoveryResponse>> streams = new ConcurrentLinkedQueue<>();
    private final AtomicInteger connected = new AtomicInteger();
    private volatile CountDownLatch acks = new CountDownLatch(0);

    Floor(ExecutorService pool) {
      this.pool = pool;
    }

    StreamObserver<byte[]> connect(StreamObserver<DiscoveryResponse> responses) {
      return new StreamObserver<>() {
        private boolean first = true;

        @Override
        public void onNext(byte[] request) {
          if (first) {
            first = false;
            streams.add(responses);
            connected.incrementAndGet();
            return;
          }
          pool.execute(() -> acks.countDown());
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          responses.onCompleted();
        }
      };
    }

    void awaitConnected(int n) throws InterruptedException {
      while (connected.get() < n) Thread.sleep(10);
    }

    CountDownLatch expect(int n) {
      acks = new CountDownLatch(n);
      return acks;
    }

    void pushAll(Any resource, String nonce) {
      for (StreamObserver<DiscoveryResponse> s : streams) {
        pool.execute(() -> s.onNext(DiscoveryResponse.newBuilder().setTypeUrl(EDS).setVersionInfo(nonce)
            .setNonce(nonce).addResources(resource).build()));
      }
    }
  }

  private static ClusterLoadAssignment assignment(int endpoints) {
    LocalityLbEndpoints.Builder locality = LocalityLbEndpoints.newBuilder();
    for (int i = 0; i < endpoints; i++) {
      locality.addLbEndpoints(LbEndpoint.newBuilder().setEndpoint(Endpoint.newBuilder().setAddress(Address.newBuilder()
          .setSocketAddress(SocketAddress.newBuilder().setAddress("10.0." + (i / 250) + "." + (i % 250 + 1))
              .setPortValue(8080)))));
    }
    return ClusterLoadAssignment.newBuilder().addEndpoints(locality).build();
  }

  /** A full-mesh Envoy's EDS ACK: every cluster's name. */
  private static byte[] ack(int services) {
    DiscoveryRequest.Builder b = DiscoveryRequest.newBuilder().setTypeUrl(EDS).setVersionInfo("1").setResponseNonce("1");
    for (int i = 0; i < services; i++) b.addResourceNames("outbound|8080||svc-" + i + ".bench.svc.cluster.local");
    return b.build().toByteArray();
  }

  private static long cpu(ThreadMXBean threads, String prefix) {
    long sum = 0;
    for (var info : threads.getThreadInfo(threads.getAllThreadIds())) {
      if (info != null && info.getThreadName().startsWith(prefix)) {
        long t = threads.getThreadCpuTime(info.getThreadId());
        if (t > 0) sum += t;
      }
    }
    return sum;
  }

  private static double mean(List<Long> nanos) {
    return nanos.stream().mapToLong(Long::longValue).average().orElse(0) / 1e6;
  }

  private static double p50(List<Long> nanos) {
    List<Long> sorted = new ArrayList<>(nanos);
    sorted.sort(null);
    return sorted.get(sorted.size() / 2) / 1e6;
  }

  private static EventLoopGroup loops(boolean epoll, String prefix) {
    return epoll ? new EpollEventLoopGroup(0, named(prefix)) : new NioEventLoopGroup(0, named(prefix));
  }

  private static java.util.concurrent.ThreadFactory named(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  };
}
