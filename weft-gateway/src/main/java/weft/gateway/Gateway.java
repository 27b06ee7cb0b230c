package weft.gateway;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import io.netty.channel.Channel;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import weft.gateway.health.HealthServer;
import weft.gateway.proxy.ProxyStats;
import weft.gateway.proxy.SniProxy;
import weft.gateway.route.GatewayRoutes;
import weft.gateway.route.SniTable;
import weft.gateway.xds.GatewayXdsClient;
import weft.gateway.xds.RouterNode;

/**
 * The east-west gateway process: xDS client → routing tables → SNI proxy, plus its health endpoint.
 * It listens where its listeners say: the listener on {@code xdsListenerPort} (Istio's 15443) on
 * {@code listenPort}, bound at start; every other listener on its own port, opened when it arrives
 * and closed when it goes (the connections it accepted run on).
 */
public final class Gateway implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(Gateway.class.getName());
  private final AtomicReference<GatewayRoutes> routes = new AtomicReference<>(GatewayRoutes.EMPTY);
  private volatile boolean ready;
  private final GatewayOptions options;
  private final ManagedChannel channel;
  private final GatewayXdsClient xds;
  private final SniProxy proxy;
  private final HealthServer health;
  private final InetSocketAddress proxyAddress;
  /** Listeners opened from xDS, by listener port; changed only on the xDS client's thread. */
  private final Map<Integer, Channel> opened = new ConcurrentHashMap<>();
  /** Listener ports that could not be bound, with why; retried on every update. */
  private final Map<Integer, String> unbound = new ConcurrentHashMap<>();

  private Gateway(GatewayOptions o, ChannelCredentials xdsCredentials, String xdsAuthority)
      throws IOException, InterruptedException {
    options = o;
    proxy = new SniProxy();
    SniProxy startedProxy = proxy;
    try {
      proxyAddress = listen(ListenException.Port.PASSTHROUGH, o.listenPort(),
          () -> (InetSocketAddress) proxy.listen(new InetSocketAddress(o.bindHost(), o.listenPort()),
              () -> routes.get().table(o.xdsListenerPort())).localAddress());
      health = listen(ListenException.Port.HEALTH, o.healthPort(),
          () -> new HealthServer(new InetSocketAddress(o.bindHost(), o.healthPort()), () -> ready, this::statsJson));
    } catch (IOException | InterruptedException | RuntimeException e) {
      startedProxy.close();
      throw e;
    }
    NettyChannelBuilder xdsChannel = NettyChannelBuilder.forTarget(o.xdsAddress(), xdsCredentials);
    if (xdsAuthority != null && !xdsAuthority.isEmpty()) xdsChannel.overrideAuthority(xdsAuthority);
    channel = xdsChannel.build();
    xds = new GatewayXdsClient(channel,
        RouterNode.of(o.ip(), o.pod(), o.namespace(), o.clusterId(), o.network(), o.labels()),
        r -> {
          routes.set(r);
          openAndCloseListeners(r);
          ready = true;
        });
    xds.start();
  }

  /** A port the gateway cannot listen on; says which of its two ports it is. */
  public static final class ListenException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The gateway's ports. */
    public enum Port { PASSTHROUGH, HEALTH }

    private final Port which;
    private final int port;

    ListenException(Port which, int port, Throwable cause) {
      super("cannot listen on port " + port + " (" + which.name().toLowerCase(java.util.Locale.ROOT) + "): "
          + cause.getMessage(), cause);
      this.which = which;
      this.port = port;
    }

    public Port which() {
      return which;
    }

    public int port() {
      return port;
    }
  }

  private interface Bind<T> {
    T bind() throws Exception;
  }

  private static <T> T listen(ListenException.Port which, int port, Bind<T> bind)
      throws IOException, InterruptedException {
    try {
      return bind.bind();
    } catch (InterruptedException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      // Netty rethrows the socket's BindException from sync() although no signature declares it.
      throw new ListenException(which, port, e);
    }
  }

  /** Binds the proxy and health ports and starts following the control plane. */
  public static Gateway start(GatewayOptions options) throws IOException, InterruptedException {
    return new Gateway(options, InsecureChannelCredentials.create(), null);
  }

  /**
   * As {@link #start(GatewayOptions)}, reaching the control plane with {@code xdsCredentials}: for the
   * secure port, mutual TLS that presents the gateway's own certificate, the control plane's checked
   * as {@code xdsAuthority} (Istio's {@code istiod.istio-system.svc}; null for the address's host).
   */
  public static Gateway start(GatewayOptions options, ChannelCredentials xdsCredentials, String xdsAuthority)
      throws IOException, InterruptedException {
    return new Gateway(options, java.util.Objects.requireNonNull(xdsCredentials), xdsAuthority);
  }

  public int port() {
    return proxyAddress.getPort();
  }

  public int healthPort() {
    return health.port();
  }

  /** True once the first complete routing table arrived; stays true while xDS is down. */
  public boolean ready() {
    return ready;
  }

  /** The table of the listener on {@code xdsListenerPort}, the one accepted on {@link #port()}. */
  public SniTable table() {
    return routes.get().table(options.xdsListenerPort());
  }

  /** Every listener's table, by listener port. */
  public GatewayRoutes routes() {
    return routes.get();
  }

  /** Listener ports opened from xDS (beside {@link #port()}), each at the same port number. */
  public java.util.SortedSet<Integer> listenerPorts() {
    return java.util.Collections.unmodifiableSortedSet(new java.util.TreeSet<>(opened.keySet()));
  }

  /** Listener ports that could not be bound, with the reason; retried on every update. */
  public Map<Integer, String> unboundPorts() {
    return Map.copyOf(unbound);
  }

  /**
   * Opens a listening socket for every listener port new in {@code r} and closes those of listeners
   * that are gone. A port that cannot be bound is logged, shown in /stats and tried again on the
   * next update; the other listeners serve meanwhile.
   */
  private void openAndCloseListeners(GatewayRoutes r) {
    for (Integer port : List.copyOf(opened.keySet())) {
      if (r.ports().contains(port)) continue;
      LOG.info("listener on port " + port + " removed; no longer accepting there (open connections run on)");
      opened.remove(port).close();
    }
    unbound.keySet().retainAll(r.ports());
    for (int port : r.ports()) {
      if (port == options.xdsListenerPort() || opened.containsKey(port)) continue;
      if (port == proxyAddress.getPort()) {
        note(port, "port " + port + " is where the listener on " + options.xdsListenerPort() + " is accepted (--port)");
        continue;
      }
      try {
        opened.put(port, proxy.listen(new InetSocketAddress(options.bindHost(), port), () -> routes.get().table(port)));
        if (unbound.remove(port) != null) LOG.info("listener on port " + port + " bound now");
        else LOG.info("listening on port " + port + " for its listener");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (Exception e) {
        // Netty rethrows the socket's BindException from sync() although no signature declares it.
        note(port, "cannot listen on " + options.bindHost() + ":" + port + ": " + e.getMessage());
      }
    }
  }

  private void note(int port, String why) {
    if (!why.equals(unbound.put(port, why))) LOG.warning(why + "; connections for that listener are refused");
  }

  public ProxyStats stats() {
    return proxy.stats();
  }

  public GatewayXdsClient xds() {
    return xds;
  }

  private String statsJson() {
    ProxyStats s = proxy.stats();
    List<Integer> listening = new java.util.ArrayList<>(listenerPorts());
    listening.add(0, proxyAddress.getPort());
    return "{\"ready\":" + ready + ",\"xdsConnected\":" + xds.connected() + ",\"routes\":" + routes.get().size()
        + ",\"listeningPorts\":" + listening + ",\"unboundPorts\":" + new java.util.TreeSet<>(unbound.keySet())
        + ",\"connectionsActive\":" + s.active() + ",\"connectionsTotal\":" + s.total()
        + ",\"connectionsRefused\":" + s.refusedCount() + "}";
  }

  @Override
  public void close() {
    xds.close();
    channel.shutdownNow();
    health.close();
    proxy.close();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
