package weft.security.csr;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** What the CSR API did: certificates issued, and refusals by reason. */
final class CaMetrics {
  private final MeterRegistry registry;
  private final Counter issued;
  private final Map<String, Counter> refused = new ConcurrentHashMap<>();

  CaMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.issued = Counter.builder("weft_ca_certificates_issued_total")
        .description("Workload certificates issued through the CSR API").register(registry);
  }

  void issued() {
    issued.increment();
  }

  void refused(String reason) {
    refused.computeIfAbsent(reason, r -> Counter.builder("weft_ca_refusals_total").tag("reason", r)
        .description("CSR requests refused, by reason").register(registry)).increment();
  }
}
