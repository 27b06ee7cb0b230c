package weft.xds.envoygen;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.route.v3.RetryPolicy;
import io.envoyproxy.envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate;
import java.util.ArrayList;
import java.util.List;
import weft.model.VirtualService;

/** Istio's retry policies (route/retry/retry.go): the mesh default and a VirtualService's override. */
final class Retries {
  /** Istio's default retry conditions (retry.DefaultPolicy). */
  static final String DEFAULT_RETRY_ON = "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes";
  /** Istio's default retry count when a VirtualService sets none. */
  static final int DEFAULT_RETRIES = 2;
  /** Istio retries on 503 by default (unless EXCLUDE_UNSAFE_503_FROM_DEFAULT_RETRY). */
  static final int SERVICE_UNAVAILABLE = 503;
  /** Istio's HostSelectionRetryMaxAttempts: how often Envoy re-picks a host to avoid the one that failed. */
  static final int HOST_SELECTION_ATTEMPTS = 5;

  private Retries() {}

  /**
   * Istio's retry.ConvertPolicy: no retries block means the default policy; attempts of 0 (or unset)
   * means no retries; status codes in retryOn become retriable_status_codes.
   */
  static RetryPolicy convert(VirtualService.Retry in, boolean consistentHash) {
    RetryPolicy.Builder out = defaults(consistentHash).toBuilder();
    if (in == null) return out.build();
    if (in.attempts() == null || in.attempts() <= 0) return null;
    out.setNumRetries(UInt32Value.of(in.attempts()));
    if (in.retryOn() != null && !in.retryOn().isBlank()) {
      List<String> kept = new ArrayList<>();
      List<Integer> codes = new ArrayList<>();
      for (String part : in.retryOn().split(",")) {
        String p = part.trim();
        if (p.isEmpty()) continue;
        if (p.matches("[1-5][0-9][0-9]")) {
          codes.add(Integer.parseInt(p));
        } else {
          kept.add(p);
        }
      }
      String retryOn = String.join(",", kept);
      if (!codes.isEmpty() && !kept.contains("retriable-status-codes")) {
        retryOn = retryOn.isEmpty() ? "retriable-status-codes" : retryOn + ",retriable-status-codes";
      }
      out.setRetryOn(retryOn).clearRetriableStatusCodes().addAllRetriableStatusCodes(codes);
    }
    if (in.perTryTimeout() != null) out.setPerTryTimeout(Protos.duration(in.perTryTimeout()));
    return out.build();
  }

  /** Consistent hashing must keep retrying the same host, so the previous-hosts predicate is left out then. */
  static RetryPolicy defaults(boolean consistentHash) {
    RetryPolicy.Builder r = RetryPolicy.newBuilder()
        .setRetryOn(DEFAULT_RETRY_ON)
        .setNumRetries(UInt32Value.of(DEFAULT_RETRIES))
        .addRetriableStatusCodes(SERVICE_UNAVAILABLE)
        .setHostSelectionRetryMaxAttempts(HOST_SELECTION_ATTEMPTS);
    if (!consistentHash) {
      r.addRetryHostPredicate(RetryPolicy.RetryHostPredicate.newBuilder().setName(WellKnown.PREVIOUS_HOSTS)
          .setTypedConfig(Any.pack(PreviousHostsPredicate.getDefaultInstance())));
    }
    return r.build();
  }
}
