package weft.agent.testing;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import weft.dns.nds.NameTable;

/**
 * A control plane that serves only name tables (plaintext ADS on loopback): it answers every
 * name-table subscription with the current table and pushes a new one to every open stream. It can be
 * stopped and started again on the same port, as a control plane that goes away and comes back.
 */
public final class FakeNameTables implements AutoCloseable {
  public static final String TYPE_URL = "type.googleapis.com/istio.networking.nds.v1.NameTable";

  /** The node of every stream's first request, in order. */
  public final List<Node> nodes = new CopyOnWriteArrayList<>();
  /** Every request received (ACKs and NACKs included). */
  public final List<DiscoveryRequest> requests = new CopyOnWriteArrayList<>();
  private final List<StreamObserver<DiscoveryResponse>> streams = new CopyOnWriteArrayList<>();
  private final AtomicInteger versions = new AtomicInteger();
  private volatile NameTable table;
  private volatile int port;
  private volatile Server server;

  public FakeNameTables(NameTable table) throws IOException {
    this.table = table;
    start(0);
  }

  private void start(int wanted) throws IOException {
    server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), wanted))
        .addService(new Ads()).build().start();
    port = server.getPort();
  }

  public String address() {
    return "127.0.0.1:" + port;
  }

  public int port() {
    return port;
  }

  /** Pushes {@code next} to every open stream (and to every later one). */
  public void push(NameTable next) {
    table = next;
    for (StreamObserver<DiscoveryResponse> s : streams) {
      send(s);
    }
  }

  /** Pushes one response with these resources as they are (a broken control plane). */
  public void pushRaw(Any... resources) {
    int v = versions.incrementAndGet();
    for (StreamObserver<DiscoveryResponse> s : streams) {
      synchronized (s) {
        s.onNext(DiscoveryResponse.newBuilder().setTypeUrl(TYPE_URL).setVersionInfo("v" + v).setNonce("n" + v)
            .addAllResources(List.of(resources)).build());
      }
    }
  }

  /** The control plane goes away: every stream ends, nothing listens. */
  public void stop() throws InterruptedException {
    Server s = server;
    streams.clear();
    s.shutdownNow();
    s.awaitTermination(10, TimeUnit.SECONDS);
  }

  /** It comes back on the same port. */
  public void restart() throws IOException {
    start(port);
  }

  private void send(StreamObserver<DiscoveryResponse> s) {
    int v = versions.incrementAndGet();
    try {
      synchronized (s) {
        s.onNext(DiscoveryResponse.newBuilder().setTypeUrl(TYPE_URL).setVersionInfo("v" + v).setNonce("n" + v)
            .addResources(Any.pack(table, "type.googleapis.com")).build());
      }
    } catch (RuntimeException gone) {
      streams.remove(s);
    }
  }

  @Override
  public void close() throws InterruptedException {
    stop();
  }

  private final class Ads extends AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase {
    @Override
    public StreamObserver<DiscoveryRequest> streamAggregatedResources(StreamObserver<DiscoveryResponse> out) {
      return new StreamObserver<>() {
        private boolean first = true;

        @Override
        public void onNext(DiscoveryRequest r) {
          requests.add(r);
          if (first) {
            nodes.add(r.getNode());
            first = false;
          }
          if (TYPE_URL.equals(r.getTypeUrl()) && r.getResponseNonce().isEmpty()) {
            streams.add(out);
            send(out);
          }
        }

        @Override
        public void onError(Throwable t) {
          streams.remove(out);
        }

        @Override
        public void onCompleted() {
          streams.remove(out);
          out.onCompleted();
        }
      };
    }
  }
}
