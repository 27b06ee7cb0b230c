package weft.agent.testing;

import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.StreamObserver;
import io.grpc.xds.shaded.io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.grpc.xds.shaded.io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.grpc.xds.shaded.io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.security.cert.Certificate;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * An ADS endpoint that answers nothing and remembers what it was asked and by whom: enough to see
 * that grpc-java read a bootstrap, dialled the server in it with the credentials in it, and sent the
 * node in it.
 */
public final class RecordingAds extends AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase {
  public final BlockingQueue<DiscoveryRequest> requests = new LinkedBlockingQueue<>();
  /** The client certificate chain of each stream (empty when the client showed none). */
  public final List<List<Certificate>> peers = new CopyOnWriteArrayList<>();

  public ServerServiceDefinition definition() {
    return ServerInterceptors.intercept(bindService(), new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
        try {
          peers.add(session == null ? List.of() : List.of(session.getPeerCertificates()));
        } catch (SSLPeerUnverifiedException e) {
          peers.add(List.of());
        }
        return next.startCall(call, headers);
      }
    });
  }

  @Override
  public StreamObserver<DiscoveryRequest> streamAggregatedResources(StreamObserver<DiscoveryResponse> responses) {
    return new StreamObserver<>() {
      @Override
      public void onNext(DiscoveryRequest request) {
        requests.add(request);
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {
        responses.onCompleted();
      }
    };
  }
}
