package weft.controlplane;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.function.BooleanSupplier;

/**
 * Refuses calls while the control plane is still loading its clusters, as istiod does: a proxy
 * sent a half-loaded mesh would drop endpoints it has, so it gets UNAVAILABLE and retries.
 */
final class RefuseUntilReady implements ServerInterceptor {
  private final BooleanSupplier ready;

  RefuseUntilReady(BooleanSupplier ready) {
    this.ready = ready;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    if (!ready.getAsBoolean()) {
      call.close(Status.UNAVAILABLE.withDescription("the control plane is starting: initial sync in progress"),
          new Metadata());
      return new ServerCall.Listener<>() {};
    }
    return next.startCall(call, headers);
  }
}
