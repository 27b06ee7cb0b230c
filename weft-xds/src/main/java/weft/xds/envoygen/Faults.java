package weft.xds.envoygen;

import io.envoyproxy.envoy.extensions.filters.common.fault.v3.FaultDelay;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.FaultAbort;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import java.util.List;
import weft.model.VirtualService;

/** VirtualService fault injection as the fault filter's per-route config (Istio's TranslateFault). */
final class Faults {
  /** gRPC status names in status.proto order: the index is the code Envoy's fault filter wants. */
  private static final List<String> GRPC_STATUS = List.of("OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
      "UNAUTHENTICATED");

  private Faults() {}

  /** Null when the fault has neither a usable delay nor an abort. */
  static HTTPFault of(VirtualService.Fault in) {
    HTTPFault.Builder f = HTTPFault.newBuilder();
    boolean any = false;
    if (in.delay() != null && in.delay().fixedDelay() != null) {
      f.setDelay(FaultDelay.newBuilder()
          .setFixedDelay(Protos.duration(in.delay().fixedDelay()))
          .setPercentage(Protos.percent(in.delay().percentage())));
      any = true;
    }
    if (in.abort() != null) {
      FaultAbort.Builder a = FaultAbort.newBuilder().setPercentage(Protos.percent(in.abort().percentage()));
      if (in.abort().grpcStatus() != null) {
        a.setGrpcStatus(grpcCode(in.abort().grpcStatus()));
      } else {
        a.setHttpStatus(in.abort().httpStatus());
      }
      f.setAbort(a);
      any = true;
    }
    return any ? f.build() : null;
  }

  private static int grpcCode(String status) {
    int i = GRPC_STATUS.indexOf(status.toUpperCase(java.util.Locale.ROOT));
    if (i >= 0) return i;
    try {
      return Integer.parseInt(status);
    } catch (NumberFormatException e) {
      return 2; // UNKNOWN: validation already rejected names gRPC does not define
    }
  }
}
