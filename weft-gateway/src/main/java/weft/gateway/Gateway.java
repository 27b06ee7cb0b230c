package weft.gateway;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import weft.gateway.health.HealthServer;
import weft.gateway.proxy.ProxyStats;
import weft.gateway.proxy.SniProxy;
import weft.gateway.route.SniTable;
import weft.gateway.xds.GatewayXdsClient;
import weft.gateway.xds.RouterNode;

/** The east-west gateway process: xDS client → routing table → SNI proxy, plus its health endpoint. */
public final class Gateway implements AutoCloseable {
  private final AtomicReference<SniTable> table = new AtomicReference<>(SniTable.EMPTY);
  private volatile boolean ready;
  private final ManagedChannel channel;
  private final GatewayXdsClient xds;
  private final SniProxy proxy;
  private final HealthServer health;
  private final InetSocketAddress proxyAddress;

  private Gateway(GatewayOptions o, ChannelCredentials xdsCredentials, String xdsAuthority)
      throws IOException, InterruptedException {
    proxy = new SniProxy(table::get);
    SniProxy startedProxy = proxy;
    try {
      proxyAddress = listen(ListenException.Port.PASSTHROUGH, o.listenPort(),
          () -> proxy.start(new InetSocketAddress(o.bindHost(), o.listenPort())));
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
        o.xdsListenerPort(), t -> {
          table.set(t);
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

  public SniTable table() {
    return table.get();
  }

  public ProxyStats stats() {
    return proxy.stats();
  }

  public GatewayXdsClient xds() {
    return xds;
  }

  private String statsJson() {
    ProxyStats s = proxy.stats();
    return "{\"ready\":" + ready + ",\"xdsConnected\":" + xds.connected() + ",\"routes\":" + table.get().size()
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
