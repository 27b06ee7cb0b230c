package weft.gateway.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.AbstractSniHandler;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import weft.gateway.route.SniTable;

/**
 * Reads the ClientHello only as far as its SNI (Netty's parser; nothing is decrypted or answered),
 * looks the name up in the table current at that moment, connects to an endpoint, then replaces
 * itself with a {@link Relay}. The ClientHello bytes it held go to the relay first, so the backend
 * sees the client's handshake untouched and answers with its own certificate.
 */
final class SniRouter extends AbstractSniHandler<Channel> {
  private static final Logger LOG = Logger.getLogger(SniRouter.class.getName());
  /** How long a client may take to send its ClientHello; Envoy's tls_inspector default is 15 s. */
  static final long CLIENT_HELLO_TIMEOUT_MILLIS = 15_000;
  /** Connect timeout per endpoint; Envoy's cluster default is 5 s (Istio sets 10 s). */
  static final int CONNECT_TIMEOUT_MILLIS = 5_000;

  private final Supplier<SniTable> table;
  private final ProxyStats stats;
  private boolean refused;

  SniRouter(Supplier<SniTable> table, ProxyStats stats) {
    super(CLIENT_HELLO_TIMEOUT_MILLIS);
    this.table = table;
    this.stats = stats;
  }

  @Override
  protected Future<Channel> lookup(ChannelHandlerContext ctx, String hostname) {
    // No name: a ClientHello without SNI, or not TLS at all; only a chain for any name takes it (as in Envoy).
    SniTable.Route route = table.get().route(hostname);
    if (route == null) {
      return ctx.executor().newFailedFuture(new RefusedException(hostname == null
          ? "no SNI in the ClientHello (or not TLS) and no chain for any name" : "no route for SNI " + hostname));
    }
    SniTable.Target target = route.pick();
    if (target.order().isEmpty()) {
      return ctx.executor().newFailedFuture(new RefusedException("cluster " + target.cluster() + " has no healthy endpoint"));
    }
    Promise<Channel> p = ctx.executor().newPromise();
    connect(ctx, target.cluster(), target.order(), 0, p);
    return p;
  }

  /** Tries the endpoints in the picked order until one accepts. */
  private void connect(ChannelHandlerContext ctx, String cluster, List<InetSocketAddress> order, int i, Promise<Channel> p) {
    Channel in = ctx.channel();
    Bootstrap b = new Bootstrap().group(in.eventLoop()).channel(NioSocketChannel.class)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, CONNECT_TIMEOUT_MILLIS)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.AUTO_READ, false)
        .handler(new ChannelInboundHandlerAdapter());
    b.connect(order.get(i)).addListener((ChannelFutureListener) f -> {
      if (f.isSuccess()) {
        p.trySuccess(f.channel());
      } else if (i + 1 < order.size() && in.isActive()) {
        LOG.log(Level.FINE, "endpoint " + order.get(i) + " of " + cluster + " refused; trying the next", f.cause());
        connect(ctx, cluster, order, i + 1, p);
      } else {
        p.tryFailure(new RefusedException("no endpoint of " + cluster + " accepted a connection: " + f.cause()));
      }
    });
  }

  @Override
  protected void onLookupComplete(ChannelHandlerContext ctx, String hostname, Future<Channel> future) {
    if (!future.isSuccess()) {
      refuse(ctx, future.cause().getMessage());
      return;
    }
    Channel out = future.getNow();
    if (!ctx.channel().isActive()) {
      out.close();
      return;
    }
    out.pipeline().addLast(new Relay(ctx.channel()));
    out.config().setAutoRead(true);
    // Replacing flushes the bytes this decoder held (the ClientHello) into the relay.
    ctx.pipeline().replace(this, "relay", new Relay(out));
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    refuse(ctx, "not a TLS ClientHello or too slow: " + cause);
  }

  private void refuse(ChannelHandlerContext ctx, String why) {
    if (!refused) {
      refused = true;
      stats.refused();
      LOG.info(() -> "refusing " + ctx.channel().remoteAddress() + ": " + why);
    }
    ctx.close();
  }

  private static final class RefusedException extends Exception {
    RefusedException(String message) {
      super(message, null, false, false);
    }
  }
}
