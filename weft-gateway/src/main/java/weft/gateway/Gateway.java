package weft.gateway;

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

  private Gateway(GatewayOptions o) throws IOException, InterruptedException {
    proxy = new SniProxy(table::get);
    SniProxy startedProxy = proxy;
    try {
      proxyAddress = proxy.start(new InetSocketAddress(o.bindHost(), o.listenPort()));
      health = new HealthServer(new InetSocketAddress(o.bindHost(), o.healthPort()), () -> ready, this::statsJson);
    } catch (IOException | InterruptedException | RuntimeException e) {
      startedProxy.close();
      throw e;
    }
    channel = NettyChannelBuilder.forTarget(o.xdsAddress()).usePlaintext().build();
    xds = new GatewayXdsClient(channel,
        RouterNode.of(o.ip(), o.pod(), o.namespace(), o.clusterId(), o.network(), o.labels()),
        o.xdsListenerPort(), t -> {
          table.set(t);
          ready = true;
        });
    xds.start();
  }

  /** Binds the proxy and health ports and starts following the control plane. */
  public static Gateway start(GatewayOptions options) throws IOException, InterruptedException {
    return new Gateway(options);
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
