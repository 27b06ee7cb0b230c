package weft.xds.grpcgen;

import java.util.List;

/** Istio writes gRPC status by name ({@code UNAVAILABLE}); Envoy's fault filter wants the number. */
final class GrpcStatusCodes {
  /** In gRPC's numbering order (status.proto): the index is the code. */
  private static final List<String> NAMES = List.of("OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
      "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
      "UNAUTHENTICATED");

  private GrpcStatusCodes() {}

  static int code(String status) {
    int i = NAMES.indexOf(status.toUpperCase());
    if (i >= 0) return i;
    try {
      return Integer.parseInt(status);
    } catch (NumberFormatException e) {
      return 2; // UNKNOWN: validation already rejected names gRPC does not define
    }
  }
}
