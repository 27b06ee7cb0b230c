package weft.agent.xdsproxy;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import weft.agent.cert.RetryPolicy;

/**
 * The agent's local xDS proxy: ADS (State of the World and Delta) on a loopback port for the workload, relayed
 * to one control plane at a time out of several, failing over between them.
 *
 * <p>Why it exists: grpc-java falls back to a second bootstrap server only for resources it never
 * received, so a workload with config stays on a dead control plane; and grpc-java's own {@code tls}
 * xDS credentials ignore their config, so a stock workload cannot reach the secure port. The proxy
 * holds the upstream stream instead (with the workload certificate, over mutual TLS) and moves it to
 * another control plane when one dies or stops answering, while the workload's own stream stays open
 * on its last good config. See {@link UpstreamRelay} for the failover rules, {@link Relay} and
 * {@link DeltaRelay} for what each variant replays and forwards.
 *
 * <p>Each workload stream gets its own {@link Relay} and its own upstream stream; a workload has one
 * per xDS client (one, usually). All relays run on one thread of the proxy's.
 */
public final class XdsProxy implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(XdsProxy.class.getName());
  /**
   * How long an upstream request may go unanswered before the control plane counts as stuck: long
   * enough for a loaded control plane's first full push, short enough to beat grpc-java's 15 s
   * does-not-exist timer for a resource newly asked for.
   */
  public static final Duration DEFAULT_RESPONSE_TIMEOUT = Duration.ofSeconds(10);
  /**
   * Reconnect backoff: 200 ms doubling to 4 s, ±20%: the next control plane is tried at once (a
   * failover is not a retry of the same server), and no wait exceeds 4.8 s, inside the 5 s a failover
   * may take.
   */
  public static final RetryPolicy DEFAULT_BACKOFF = new RetryPolicy(Duration.ofMillis(200), Duration.ofSeconds(4), 2, 0.2);
  // A workload's requests are small (names); this bounds what one can make the proxy parse and keep.
  static final int MAX_REQUEST_BYTES = 4 << 20;
  // A workload has one xDS stream per xDS client; more from one loopback port is a bug or an attack.
  static final int MAX_STREAMS = 8;

  private final Server server;
  private final ScheduledExecutorService sync;
  private final UpstreamDialer dialer;
  private final Set<UpstreamRelay<?, ?>> relays = ConcurrentHashMap.newKeySet();
  private final AtomicInteger accepted = new AtomicInteger();

  private XdsProxy(int port, Relay.Settings settings) {
    this.sync = settings.sync();
    this.dialer = settings.dialer();
    this.server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))
        .maxInboundMessageSize(MAX_REQUEST_BYTES)
        .addService(new Ads(settings))
        .build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The node of a gRPC bootstrap document ({@code XdsBootstrap.toMap()}), for {@link Builder#defaultNode}. */
  public static Node node(java.util.Map<String, ?> bootstrap) {
    return BootstrapNode.of(bootstrap);
  }

  /** The loopback port the workload's bootstrap names. */
  public int port() {
    return server.getPort();
  }

  /** The upstream addresses ({@code ip:port}) the workload streams are connected to now. */
  public List<String> connectedTo() {
    return relays.stream().map(UpstreamRelay::connectedTo).filter(s -> !s.isEmpty()).sorted().toList();
  }

  /**
   * Workload streams accepted since start. A failover must not raise it: the workload's stream stays
   * open while the proxy changes control planes.
   */
  public int workloadStreams() {
    return accepted.get();
  }

  /** Upstream streams the open workload streams have opened, summed: one each, plus one per switch. */
  public int upstreamStreamsOpened() {
    return relays.stream().mapToInt(UpstreamRelay::streamsOpened).sum();
  }

  /** Types some workload stream asks for that no control plane answers, so the proxy no longer waits for them. */
  public Set<String> typesNotAwaited() {
    Set<String> out = new java.util.TreeSet<>();
    relays.forEach(r -> out.addAll(r.typesNotAwaited()));
    return out;
  }

  /** Workload streams open now. */
  int openWorkloadStreams() {
    return relays.size();
  }

  /** Whether at least one workload stream is relayed and its control plane has answered. */
  public boolean answering() {
    return relays.stream().anyMatch(UpstreamRelay::answering);
  }

  @Override
  public void close() {
    server.shutdownNow();
    sync.shutdownNow();
    dialer.close();
    try {
      server.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private final class Ads extends AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase {
    private final Relay.Settings settings;

    Ads(Relay.Settings settings) {
      this.settings = settings;
    }

    @Override
    public StreamObserver<DiscoveryRequest> streamAggregatedResources(StreamObserver<DiscoveryResponse> responses) {
      return serve(responses, (down, label) -> {
        Relay relay = new Relay(settings, down, label);
        return new Served<>(relay, relay::onWorkloadRequest);
      });
    }

    @Override
    public StreamObserver<DeltaDiscoveryRequest> deltaAggregatedResources(
        StreamObserver<DeltaDiscoveryResponse> responses) {
      return serve(responses, (down, label) -> {
        DeltaRelay relay = new DeltaRelay(settings, down, label);
        return new Served<>(relay, relay::onWorkloadRequest);
      });
    }
  }

  /** A relay and where the workload's requests go. */
  private record Served<Q>(UpstreamRelay<?, ?> relay, Consumer<Q> requests) {}

  /** One workload stream, whichever variant: a relay of its own, its slot freed however it ends. */
  private <Q, R> StreamObserver<Q> serve(StreamObserver<R> responses,
      BiFunction<Downstream<R>, String, Served<Q>> make) {
    ServerCallStreamObserver<R> out = (ServerCallStreamObserver<R>) responses;
    if (relays.size() >= MAX_STREAMS) {
      responses.onError(Status.RESOURCE_EXHAUSTED
          .withDescription("the xDS proxy takes at most " + MAX_STREAMS + " streams").asRuntimeException());
      return new Ignore<>();
    }
    List<UpstreamRelay<?, ?>> self = new java.util.ArrayList<>(1);
    Served<Q> served = make.apply(new Downstream<R>() {
      @Override
      public void send(R response) {
        try {
          out.onNext(response);
        } catch (RuntimeException cancelled) {
          // The workload is gone; its stream's cancel handler ends the relay.
        }
      }

      @Override
      public void fail(Status status) {
        self.forEach(relays::remove); // its slot is free at once: a refused stream may not come back
        try {
          out.onError(status.asRuntimeException());
        } catch (RuntimeException cancelled) {
          // already gone
        }
      }
    }, "workload stream " + accepted.incrementAndGet());
    UpstreamRelay<?, ?> relay = served.relay();
    self.add(relay);
    relays.add(relay);
    // However the stream ends (the workload cancels, gRPC refuses a message it cannot parse, the
    // proxy refuses it), the relay ends and its slot is freed.
    Runnable gone = () -> {
      relays.remove(relay);
      relay.onWorkloadGone();
    };
    out.setOnCancelHandler(gone);
    out.setOnCloseHandler(gone);
    return new StreamObserver<>() {
      @Override
      public void onNext(Q request) {
        served.requests().accept(request);
      }

      @Override
      public void onError(Throwable t) {
        gone.run();
      }

      @Override
      public void onCompleted() {
        gone.run();
        try {
          out.onCompleted();
        } catch (RuntimeException closed) {
          // already closed
        }
      }
    };
  }

  private static final class Ignore<Q> implements StreamObserver<Q> {
    @Override
    public void onNext(Q value) {}

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}
  }

  /** Upstream addresses are required; the rest has defaults. */
  public static final class Builder {
    private int port;
    private List<String> upstreams;
    private ChannelCredentials credentials = InsecureChannelCredentials.create();
    private String authority;
    private Duration responseTimeout = DEFAULT_RESPONSE_TIMEOUT;
    private RetryPolicy backoff = DEFAULT_BACKOFF;
    private Node defaults = Node.getDefaultInstance();
    private UpstreamAddresses.Resolver resolver = InetAddress::getAllByName;

    private Builder() {}

    /** The loopback port to serve on; 0 (the default) for any free one. */
    public Builder port(int port) {
      this.port = port;
      return this;
    }

    /** The control planes, {@code host:port} each; a host stands for every address it resolves to. */
    public Builder upstreams(List<String> addresses) {
      this.upstreams = List.copyOf(addresses);
      return this;
    }

    /**
     * How to reach them: plaintext by default; mutual TLS with the workload certificate for the
     * secure port, checked as {@code authority} (Istio's {@code istiod.istio-system.svc}).
     */
    public Builder credentials(ChannelCredentials credentials, String authority) {
      this.credentials = Objects.requireNonNull(credentials);
      this.authority = authority;
      return this;
    }

    public Builder responseTimeout(Duration timeout) {
      this.responseTimeout = Objects.requireNonNull(timeout);
      return this;
    }

    public Builder backoff(RetryPolicy backoff) {
      this.backoff = Objects.requireNonNull(backoff);
      return this;
    }

    /** Node fields the agent knows; what the workload's own node says wins. */
    public Builder defaultNode(Node node) {
      this.defaults = Objects.requireNonNull(node);
      return this;
    }

    Builder resolver(UpstreamAddresses.Resolver resolver) {
      this.resolver = resolver;
      return this;
    }

    /** @throws UncheckedIOException when the port cannot be bound */
    public XdsProxy start() {
      UpstreamAddresses addresses = new UpstreamAddresses(Objects.requireNonNull(upstreams, "upstreams"));
      ScheduledExecutorService sync = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "weft-agent-xds-proxy");
        t.setDaemon(true);
        return t;
      });
      UpstreamDialer dialer = new GrpcUpstreamDialer(credentials, authority);
      Relay.Settings settings = new Relay.Settings(addresses, resolver, dialer, sync, backoff, responseTimeout,
          () -> ThreadLocalRandom.current().nextDouble(), defaults);
      XdsProxy proxy = new XdsProxy(port, settings);
      try {
        proxy.server.start();
      } catch (IOException e) {
        sync.shutdownNow();
        dialer.close();
        throw new UncheckedIOException("cannot serve the xDS proxy on loopback port " + port + ": " + e.getMessage(), e);
      }
      LOG.log(System.Logger.Level.INFO, "xDS proxy on " + InetAddress.getLoopbackAddress().getHostAddress() + ":"
          + proxy.port() + ", relaying to " + addresses.entries());
      return proxy;
    }
  }
}
