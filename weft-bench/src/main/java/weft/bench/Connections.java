package weft.bench;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The TCP connections the streams run on. Real proxies each have their own, so by default every
 * stream gets one; only when this process may not open that many sockets (its file-descriptor
 * limit) do streams share them, round-robin, and the run says so.
 */
final class Connections implements AutoCloseable {
  /** Descriptors kept for everything else the harness opens: jars, files it writes, HTTP, pipes. */
  private static final long RESERVED_DESCRIPTORS = 1_000;

  private final int port;
  private final int limit;
  private final List<ManagedChannel> channels = new ArrayList<>();

  /** @param requested connections to use; 0 = one per stream where the limit allows */
  Connections(int port, int streams, int requested) {
    this.port = port;
    long allowed = Math.max(1, Machine.maxFileDescriptors() - RESERVED_DESCRIPTORS);
    if (requested > 0) {
      limit = requested;
    } else if (streams <= allowed) {
      limit = streams;
    } else {
      limit = (int) allowed;
      System.out.printf("NOTE: %d streams share %d TCP connections: this process may open only %d files"
          + " (raise `ulimit -n` for one connection per stream)%n", streams, limit, Machine.maxFileDescriptors());
    }
  }

  /** The connection of stream {@code i} (0-based, in order). */
  ManagedChannel forStream(int i) {
    if (channels.size() < limit) {
      // Callbacks on the I/O thread: the harness's own cost must stay small beside the control plane's.
      channels.add(NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().directExecutor()
          .maxInboundMessageSize(64 * 1024 * 1024).build());
      return channels.get(channels.size() - 1);
    }
    return channels.get(i % limit);
  }

  int count() {
    return channels.size();
  }

  @Override
  public void close() throws InterruptedException {
    channels.forEach(ManagedChannel::shutdownNow);
    for (ManagedChannel c : channels) c.awaitTermination(30, TimeUnit.SECONDS);
  }
}
