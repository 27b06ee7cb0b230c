package weft.xds.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import weft.registry.metrics.IstioMetrics;
import weft.xds.TypeUrls;

/** The xDS server's Prometheus metrics. Names follow Istio's pilot metrics where one exists. */
public final class XdsMetrics {
  private final MeterRegistry registry;
  private final Map<String, Counter> pushes = new ConcurrentHashMap<>();
  private final Map<String, Counter> nacks = new ConcurrentHashMap<>();
  private final Map<String, Counter> internalErrors = new ConcurrentHashMap<>();
  private final Map<String, Timer> pushTimes = new ConcurrentHashMap<>();
  private final Counter rejected;
  private final Counter unsupportedTypes;
  private final Counter sendTimeouts;
  private final Counter secretsRefused;
  private final Timer convergence;
  /** The same events under Istio's names, labels and buckets (its dashboards read these). */
  private final IstioMetrics istio;

  public XdsMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.istio = IstioMetrics.of(registry);
    this.rejected = Counter.builder("weft_xds_rejected_streams_total")
        .description("xDS streams refused because the node identity was invalid or claimed more than the client proved")
        .register(registry);
    this.unsupportedTypes = Counter.builder("weft_xds_unsupported_type_requests_total")
        .description("xDS requests for a type Weft does not serve (ignored)").register(registry);
    this.sendTimeouts = Counter.builder("weft_xds_send_timeouts_total")
        .description("xDS streams closed because the client read nothing for --xds-send-timeout while a push waited")
        .register(registry);
    this.secretsRefused = Counter.builder("weft_xds_secrets_refused_total")
        .description("Kubernetes Secrets (SDS kubernetes://NAME) asked for and not sent: no proven identity, "
            + "another namespace, missing, or holding nothing to send (Istio's pilot_sds_certificate_errors_total)")
        .register(registry);
    this.convergence = Timer.builder("weft_xds_convergence_seconds")
        .description("from a snapshot's publication to a proxy being sent what changed for it")
        .publishPercentiles(0.5, 0.9, 0.99)
        .register(registry);
  }

  void converged(long nanos) {
    convergence.record(nanos, TimeUnit.NANOSECONDS);
    istio.converged(nanos / 1e9);
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** Micrometer holds gauge state weakly; the connection set lives as long as the server, so hold it strongly. */
  void connectionsGauge(java.util.Collection<?> connections) {
    io.micrometer.core.instrument.Gauge.builder("weft_xds_connected_proxies", connections, java.util.Collection::size)
        .description("proxies with an open ADS stream").strongReference(true).register(registry);
    // Istio labels this by the proxy's ISTIO_VERSION metadata, which Weft does not read: one series, version "".
    istio.connectedProxies(() -> java.util.Map.of("", connections.size()));
  }

  void pushed(String typeUrl, int resources, long bytes, long nanos) {
    String type = TypeUrls.shortName(typeUrl);
    istio.pushed(istioType(typeUrl), nanos / 1e9, bytes);
    pushes.computeIfAbsent(type, t -> Counter.builder("weft_xds_pushes_total").tag("type", t)
        .description("xDS responses sent").register(registry)).increment();
    pushTimes.computeIfAbsent(type, t -> Timer.builder("weft_xds_push_generation_seconds").tag("type", t)
        .description("time to generate and send one response").register(registry)).record(nanos, TimeUnit.NANOSECONDS);
  }

  /** A generator threw for a proxy: nothing of the type was sent to it. */
  void internalError(String typeUrl) {
    istio.internalError();
    internalErrors.computeIfAbsent(TypeUrls.shortName(typeUrl), t -> Counter.builder("weft_xds_internal_errors")
        .tag("type", t).description("generations that failed for a proxy; nothing of the type was sent to it")
        .register(registry)).increment();
  }

  void nack(String typeUrl) {
    istio.rejected(istioType(typeUrl));
    nacks.computeIfAbsent(TypeUrls.shortName(typeUrl), t -> Counter.builder("weft_xds_nacks_total").tag("type", t)
        .description("xDS responses a proxy rejected").register(registry)).increment();
  }

  void rejectedStream() {
    rejected.increment();
  }

  void sendTimeout() {
    sendTimeouts.increment();
  }

  /** Istio's type label (its v3.GetMetricType): cds, eds, lds, rds, sds, nds. */
  static String istioType(String typeUrl) {
    String s = TypeUrls.shortName(typeUrl);
    return switch (s) {
      case "CDS", "EDS", "LDS", "RDS", "NDS", "SDS" -> s.toLowerCase(java.util.Locale.ROOT);
      default -> s;
    };
  }

  /** A snapshot that changes what proxies see: Istio counts one trigger per reason. */
  void pushTriggered(weft.registry.ChangeEvent change) {
    if (change.full()) {
      istio.pushTriggered("global");
      return;
    }
    if (!change.endpointHosts().isEmpty()) istio.pushTriggered("endpoint");
    if (!change.serviceHosts().isEmpty()) istio.pushTriggered("service");
    if (!change.configs().isEmpty()) istio.pushTriggered("config");
    if (!change.secrets().isEmpty()) istio.pushTriggered("secret");
  }

  void unsupportedType() {
    unsupportedTypes.increment();
  }

  void secretRefused() {
    secretsRefused.increment();
  }
}
