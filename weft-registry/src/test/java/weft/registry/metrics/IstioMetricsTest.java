package weft.registry.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Map;
import org.junit.jupiter.api.Test;

class IstioMetricsTest {
  @Test
  void rejectsTriggersAndConvergenceAreExposedAsIstioExposesThem() {
    PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    IstioMetrics istio = IstioMetrics.of(meters);
    assertThat(IstioMetrics.of(meters)).as("one set per registry").isSameAs(istio);
    istio.rejected("cds");
    istio.pushTriggered("service");
    istio.converged(0.2);
    istio.connectedProxies(() -> Map.of("", 3));
    String text = IstioMetrics.exposition(meters.scrape());

    assertThat(text).contains("# TYPE pilot_total_xds_rejects counter\n")
        .contains("pilot_total_xds_rejects{type=\"cds\"} 1.0\n")
        .contains("# TYPE pilot_push_triggers counter\n").contains("pilot_push_triggers{type=\"service\"} 1.0\n")
        .contains("# TYPE pilot_proxy_convergence_time histogram\n")
        .contains("pilot_proxy_convergence_time_bucket{le=\"0.1\"} 0\n")
        .contains("pilot_proxy_convergence_time_bucket{le=\"0.5\"} 1\n")
        .contains("pilot_proxy_convergence_time_bucket{le=\"30.0\"} 1\n")
        .contains("pilot_proxy_convergence_time_count 1\n")
        .contains("pilot_xds{version=\"\"} 3.0\n")
        .doesNotContain("pilot_total_xds_rejects_total").doesNotContain("pilot_push_triggers_total")
        .doesNotContain("convergence_time_seconds");
  }
}
