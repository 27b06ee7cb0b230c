package weft.gateway;

import io.grpc.netty.shaded.io.netty.bootstrap.ServerBootstrap;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.ChannelInitializer;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.SocketChannel;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;

/**
 * A TLS echo server with its own self-signed certificate: a workload behind the gateway. It runs on
 * grpc's shaded Netty with BoringSSL, as Envoy does: the JDK's TLS server refuses Istio's SNI
 * ({@code outbound_.PORT_.SUBSET_.HOST} has underscores), BoringSSL accepts it.
 */
final class TlsBackend implements AutoCloseable {
  final String name;
  final X509Certificate cert;
  private final EventLoopGroup group = new NioEventLoopGroup(1);
  private final Channel server;

  TlsBackend(String name, String host, int port) throws Exception {
    this.name = name;
    SelfSignedCertificate ssc = new SelfSignedCertificate(name);
    this.cert = ssc.cert();
    SslContext ssl = SslContextBuilder.forServer(ssc.key(), ssc.cert()).sslProvider(SslProvider.OPENSSL).build();
    server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            ch.pipeline().addLast(ssl.newHandler(ch.alloc()), new ChannelInboundHandlerAdapter() {
              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                ctx.writeAndFlush(msg);
              }
            });
          }
        })
        .bind(new InetSocketAddress(host, port)).sync().channel();
  }

  int port() {
    return ((InetSocketAddress) server.localAddress()).getPort();
  }

  @Override
  public void close() {
    server.close().awaitUninterruptibly();
    group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).awaitUninterruptibly();
  }
}
