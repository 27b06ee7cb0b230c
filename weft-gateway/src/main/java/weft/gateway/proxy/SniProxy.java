package weft.gateway.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import weft.gateway.route.SniTable;

/**
 * The data path: accepts TCP on any number of listening sockets, routes each connection by the SNI
 * of its ClientHello with its listener's table current when the ClientHello arrives, and relays
 * bytes both ways without terminating TLS. A new table changes only where new connections go; open
 * ones run until either side closes, also when their listener is closed.
 */
public final class SniProxy implements AutoCloseable {
  private final ProxyStats stats = new ProxyStats();
  private final EventLoopGroup boss = new NioEventLoopGroup(1);
  private final EventLoopGroup workers = new NioEventLoopGroup();
  private final Set<Channel> listening = ConcurrentHashMap.newKeySet();

  public SniProxy() {}

  /**
   * Listens on {@code bind} (port 0 picks a free port) and routes its connections with {@code table}.
   * Returns the listening channel: its local address is the bound one; closing it stops accepting.
   */
  public Channel listen(InetSocketAddress bind, Supplier<SniTable> table) throws InterruptedException {
    Channel server = new ServerBootstrap().group(boss, workers).channel(NioServerSocketChannel.class)
        .option(ChannelOption.SO_BACKLOG, 1024)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            stats.opened();
            ch.closeFuture().addListener(f -> stats.closed());
            ch.pipeline().addLast("sni", new SniRouter(table, stats));
          }
        })
        .bind(bind).sync().channel();
    listening.add(server);
    server.closeFuture().addListener(f -> listening.remove(server));
    return server;
  }

  public ProxyStats stats() {
    return stats;
  }

  /** Stops accepting everywhere, then closes what is still open. */
  @Override
  public void close() {
    for (Channel c : listening) c.close().awaitUninterruptibly();
    boss.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
  }
}
