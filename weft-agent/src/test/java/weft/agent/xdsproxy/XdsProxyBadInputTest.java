package weft.agent.xdsproxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A workload that sends garbage, a huge subscription or too many streams loses its stream; the proxy goes on. */
class XdsProxyBadInputTest {
  static final String LDS = "type.googleapis.com/envoy.config.listener.v3.Listener";
  static final Duration LIVENESS = Duration.ofSeconds(60);

  Server controlPlane;
  XdsProxy proxy;
  ManagedChannel channel;

  @BeforeEach
  void start() throws IOException {
    // A control plane that answers every request that names no nonce with an empty response.
    controlPlane = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase() {
          @Override
          public StreamObserver<DiscoveryRequest> streamAggregatedResources(StreamObserver<DiscoveryResponse> out) {
            return new StreamObserver<>() {
              int nonce;

              @Override
              public void onNext(DiscoveryRequest r) {
                if (r.getResponseNonce().isEmpty()) {
                  out.onNext(DiscoveryResponse.newBuilder().setTypeUrl(r.getTypeUrl()).setVersionInfo("v1")
                      .setNonce("n" + (++nonce)).build());
                }
              }

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {
                out.onCompleted();
              }
            };
          }
        }).build().start();
    proxy = XdsProxy.builder().upstreams(List.of("127.0.0.1:" + controlPlane.getPort())).start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", proxy.port()).usePlaintext().build();
  }

  @AfterEach
  void stop() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    proxy.close();
    controlPlane.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  @Test
  void bytesThatAreNoRequestEndOnlyThatStream() throws Exception {
    MethodDescriptor<byte[], byte[]> raw = AggregatedDiscoveryServiceGrpc.getStreamAggregatedResourcesMethod().toBuilder(
        new Bytes(), new Bytes()).build();
    // More garbage streams than the proxy takes at once: each one's slot must come back.
    for (int i = 0; i <= XdsProxy.MAX_STREAMS; i++) {
      ClientCall<byte[], byte[]> call = channel.newCall(raw, CallOptions.DEFAULT);
      BlockingQueue<Status> closed = new LinkedBlockingQueue<>();
      call.start(new ClientCall.Listener<>() {
        @Override
        public void onClose(Status status, Metadata trailers) {
          closed.add(status);
        }
      }, new Metadata());
      call.sendMessage(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01, 0x02});
      call.request(1);
      Status status = closed.poll(LIVENESS.toSeconds(), TimeUnit.SECONDS);
      assertThat(status).isNotNull();
      assertThat(status.getCode()).isNotEqualTo(Status.Code.RESOURCE_EXHAUSTED).isNotEqualTo(Status.Code.OK);
      await().atMost(LIVENESS).until(() -> proxy.openWorkloadStreams() == 0);
    }
    assertThatAGoodWorkloadIsStillServed();
  }

  @Test
  void aSubscriptionLargerThanTheRequestLimitIsRefused() throws Exception {
    DiscoveryRequest.Builder huge = DiscoveryRequest.newBuilder().setTypeUrl(LDS);
    String name = "n".repeat(1000);
    for (int i = 0; i < XdsProxy.MAX_REQUEST_BYTES / 1000 + 10; i++) huge.addResourceNames(name + i);
    Stream s = open();
    s.requests.onNext(huge.build());
    Status status = s.closed.poll(LIVENESS.toSeconds(), TimeUnit.SECONDS);
    assertThat(status.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    assertThatAGoodWorkloadIsStillServed();
  }

  @Test
  void streamsPastTheLimitAreRefusedAndRefusedStreamsFreeTheirSlots() throws Exception {
    List<Stream> open = new ArrayList<>();
    for (int i = 0; i < XdsProxy.MAX_STREAMS; i++) {
      Stream s = open();
      s.requests.onNext(DiscoveryRequest.newBuilder().setTypeUrl(LDS).addResourceNames("l" + i).build());
      assertThat(s.responses.poll(LIVENESS.toSeconds(), TimeUnit.SECONDS)).isNotNull();
      open.add(s);
    }
    Stream extra = open();
    extra.requests.onNext(DiscoveryRequest.newBuilder().setTypeUrl(LDS).build());
    assertThat(extra.closed.poll(LIVENESS.toSeconds(), TimeUnit.SECONDS).getCode())
        .isEqualTo(Status.Code.RESOURCE_EXHAUSTED);

    // A stream the proxy refuses for what it said gives its slot back.
    Stream bad = open.remove(0);
    bad.requests.onNext(DiscoveryRequest.newBuilder().setTypeUrl("").build());
    assertThat(bad.closed.poll(LIVENESS.toSeconds(), TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThatAGoodWorkloadIsStillServed();
  }

  private void assertThatAGoodWorkloadIsStillServed() throws InterruptedException {
    Stream good = open();
    good.requests.onNext(DiscoveryRequest.newBuilder().setTypeUrl(LDS).addResourceNames("echo:8080").build());
    DiscoveryResponse r = good.responses.poll(LIVENESS.toSeconds(), TimeUnit.SECONDS);
    assertThat(r).as("the proxy still relays for a workload that behaves").isNotNull();
    assertThat(r.getTypeUrl()).isEqualTo(LDS);
    await().atMost(LIVENESS).until(proxy::answering);
  }

  private Stream open() {
    Stream s = new Stream();
    s.requests = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(new StreamObserver<>() {
      @Override
      public void onNext(DiscoveryResponse r) {
        s.responses.add(r);
      }

      @Override
      public void onError(Throwable t) {
        s.closed.add(Status.fromThrowable(t));
      }

      @Override
      public void onCompleted() {
        s.closed.add(Status.OK);
      }
    });
    return s;
  }

  static final class Stream {
    StreamObserver<DiscoveryRequest> requests;
    final BlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
    final BlockingQueue<Status> closed = new LinkedBlockingQueue<>();
  }

  static final class Bytes implements MethodDescriptor.Marshaller<byte[]> {
    @Override
    public InputStream stream(byte[] value) {
      return new ByteArrayInputStream(value);
    }

    @Override
    public byte[] parse(InputStream stream) {
      try {
        return stream.readAllBytes();
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
