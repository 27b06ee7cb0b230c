package weft.security.csr;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** What the CSR API did: certificates issued, and refusals by reason. */
final class CaMetrics {
  private final MeterRegistry registry;
  private final Counter issued;
  /** Istio's citadel_server_* series: its dashboards and alerts read these. */
  private final weft.registry.metrics.IstioMetrics istio;
  private final Map<String, Counter> refused = new ConcurrentHashMap<>();

  CaMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.istio = weft.registry.metrics.IstioMetrics.of(registry);
    this.issued = Counter.builder("weft_ca_certificates_issued_total")
        .description("Workload certificates issued through the CSR API").register(registry);
  }

  /** A CSR arrived (Istio counts every one, refused or not). */
  void received() {
    istio.csrReceived();
  }

  void issued() {
    issued.increment();
    istio.certificateIssued();
  }

  void refused(String reason) {
    refused.computeIfAbsent(reason, r -> Counter.builder("weft_ca_refusals_total").tag("reason", r)
        .description("CSR requests refused, by reason").register(registry)).increment();
  }
}
