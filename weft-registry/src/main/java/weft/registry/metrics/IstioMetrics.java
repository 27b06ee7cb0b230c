package weft.registry.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.Collector;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.UnknownSnapshot;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The series Istio's control plane exports, under Istio's names, labels and buckets, so that
 * Istio's "Istio Control Plane Dashboard" and alerts work on Weft unchanged. They live on the same
 * Prometheus registry as Weft's own {@code weft_*} series and the JVM's.
 *
 * <p>Istio's exporter writes counters without a {@code _total} suffix and histograms in seconds
 * without a {@code _seconds} suffix. Micrometer appends both, and the Prometheus client's own
 * Counter always appends {@code _total} in the text format; so these counters are collected here as
 * plain samples under the exact name and {@link #exposition} restores their {@code counter} type.
 * Histograms use the Prometheus client's Histogram, whose names get no unit suffix (without exemplars:
 * their tracer support is not on the class path).
 *
 * <p>Buckets and labels follow Istio's {@code pilot/pkg/xds/monitoring.go} and {@code
 * security/pkg/server/ca/monitoring.go}.
 */
public final class IstioMetrics {
  /** Istio's counters that have no {@code _total} suffix (their TYPE line says counter). */
  public static final Set<String> COUNTERS_WITHOUT_TOTAL = Set.of("pilot_xds_pushes", "pilot_k8s_reg_events",
      "pilot_k8s_cfg_events", "pilot_push_triggers", "pilot_total_xds_rejects", "pilot_total_xds_internal_errors",
      "citadel_server_csr_count", "citadel_server_success_cert_issuance_count");

  /** Istio's pilot_xds_push_time buckets (seconds). */
  static final double[] PUSH_TIME_BUCKETS = {.01, .1, 1, 3, 5, 10, 20, 30};
  /** Istio's pilot_proxy_convergence_time buckets (seconds). */
  static final double[] CONVERGENCE_BUCKETS = {.1, .5, 1, 3, 5, 10, 20, 30};
  /** Istio's pilot_xds_config_size_bytes buckets: 10K, 1M, 4M (gRPC's default limit), 10M, 40M. */
  static final double[] CONFIG_SIZE_BUCKETS = {1, 10000, 1000000, 4000000, 10000000, 40000000};

  /** One set per registry: the xDS server, the CA and the control plane each ask for it. */
  private static final Map<Object, IstioMetrics> BY_REGISTRY = new WeakHashMap<>();

  private final PrometheusRegistry registry;
  private final PlainCounter pushes;
  private final PlainCounter regEvents;
  private final PlainCounter cfgEvents;
  private final PlainCounter pushTriggers;
  private final PlainCounter rejects;
  private final PlainCounter internalErrors;
  private final PlainCounter csrs;
  private final PlainCounter issued;
  private final Histogram pushTime;
  private final Histogram configSize;
  private final Histogram convergence;
  private final Counter remoteSyncTimeouts;

  private IstioMetrics(PrometheusRegistry registry) {
    this.registry = registry;
    pushes = new PlainCounter("pilot_xds_pushes", "xDS responses sent, by type (cds, eds, lds, rds, sds, nds)",
        "type");
    regEvents = new PlainCounter("pilot_k8s_reg_events", "Events from the Kubernetes registry (services, "
        + "endpoints, pods, nodes, namespaces)", "type", "event");
    cfgEvents = new PlainCounter("pilot_k8s_cfg_events", "Events from the Kubernetes config store (Istio kinds)",
        "type", "event");
    pushTriggers = new PlainCounter("pilot_push_triggers", "Pushes triggered, by reason", "type");
    rejects = new PlainCounter("pilot_total_xds_rejects", "xDS responses a proxy rejected (NACK), by type",
        "type");
    internalErrors = new PlainCounter("pilot_total_xds_internal_errors",
        "Generations that failed inside the control plane (nothing of the type was sent)");
    csrs = new PlainCounter("citadel_server_csr_count", "CSRs received by the CA");
    issued = new PlainCounter("citadel_server_success_cert_issuance_count", "Certificates the CA issued");
    for (PlainCounter c : List.of(pushes, regEvents, cfgEvents, pushTriggers, rejects, internalErrors, csrs,
        issued)) {
      registry.register(c);
    }
    // Counters without labels exist from the start (0), so that a query sees them before the first event.
    internalErrors.touch();
    csrs.touch();
    issued.touch();
    pushTime = Histogram.builder().withoutExemplars().name("pilot_xds_push_time")
        .help("Total time in seconds to generate and send one xDS response").labelNames("type")
        .classicUpperBounds(PUSH_TIME_BUCKETS).classicOnly().register(registry);
    configSize = Histogram.builder().withoutExemplars().name("pilot_xds_config_size_bytes")
        .help("Size of the xDS responses sent").labelNames("type")
        .classicUpperBounds(CONFIG_SIZE_BUCKETS).classicOnly().register(registry);
    convergence = Histogram.builder().withoutExemplars().name("pilot_proxy_convergence_time")
        .help("Delay in seconds between a config change and a proxy receiving what changed for it")
        .classicUpperBounds(CONVERGENCE_BUCKETS).classicOnly().register(registry);
    // Istio's own name ends in _total: the client's Counter writes exactly that.
    remoteSyncTimeouts = Counter.builder().withoutExemplars().name("remote_cluster_sync_timeouts")
        .help("Remote clusters that had not synced when the initial sync wait ended").register(registry);
  }

  /** The Istio series on this Micrometer registry (exported when it is a Prometheus one). */
  public static IstioMetrics of(MeterRegistry meters) {
    synchronized (BY_REGISTRY) {
      return BY_REGISTRY.computeIfAbsent(meters, m -> new IstioMetrics(m instanceof PrometheusMeterRegistry p
          ? p.getPrometheusRegistry() : new PrometheusRegistry()));
    }
  }

  // ---- xDS

  /** One response sent: {@code type} is Istio's short name (cds, eds, lds, rds, sds, nds). */
  public void pushed(String type, double seconds, long bytes) {
    pushes.inc(type);
    pushTime.labelValues(type).observe(seconds);
    if (bytes >= 0) configSize.labelValues(type).observe(bytes);
  }

  public void rejected(String type) {
    rejects.inc(type);
  }

  public void internalError() {
    internalErrors.inc();
  }

  public void converged(double seconds) {
    convergence.observe(seconds);
  }

  /** Istio's trigger reasons: endpoint, config, service, proxy, global, secret, networks, clusterupdate, ... */
  public void pushTriggered(String reason) {
    pushTriggers.inc(reason);
  }

  /** {@code pilot_xds{version}}: connected proxies by the Istio version they report. */
  public void connectedProxies(Supplier<Map<String, Integer>> byVersion) {
    GaugeWithCallback.builder().name("pilot_xds").help("Proxies connected to this control plane over xDS")
        .labelNames("version").callback(cb -> byVersion.get().forEach((v, n) -> cb.call(n, v))).register(registry);
  }

  // ---- registry

  /** An informer event: {@code config} for Istio kinds (pilot_k8s_cfg_events), else pilot_k8s_reg_events. */
  public void kubeEvent(boolean config, String type, String event) {
    (config ? cfgEvents : regEvents).inc(type, event);
  }

  /** {@code istiod_managed_clusters{cluster_type}}: local (this control plane's own) and remote. */
  public void managedClusters(Supplier<Map<String, Integer>> byType) {
    GaugeWithCallback.builder().name("istiod_managed_clusters").help("Clusters this control plane manages")
        .labelNames("cluster_type").callback(cb -> byType.get().forEach((t, n) -> cb.call(n, t))).register(registry);
  }

  public void remoteClusterSyncTimeout() {
    remoteSyncTimeouts.inc();
  }

  // ---- CA

  public void csrReceived() {
    csrs.inc();
  }

  public void certificateIssued() {
    issued.inc();
  }

  /** {@code istio_build{component, tag}} = 1, as every Istio component exports. */
  public void build(String component, String tag) {
    GaugeWithCallback.builder().name("istio_build").help("Build of this component").labelNames("component", "tag")
        .callback(cb -> cb.call(1, component, tag)).register(registry);
  }

  private static final Pattern UNTYPED = Pattern.compile("(?m)^# TYPE (\\w+) (?:untyped|unknown)$");

  /**
   * The text exposition with Istio's counter types restored: the counters above are collected as
   * untyped samples so that no suffix is added to their names; their TYPE line says counter, as
   * Istio's does.
   */
  public static String exposition(String scrape) {
    Matcher m = UNTYPED.matcher(scrape);
    StringBuilder out = new StringBuilder(scrape.length());
    while (m.find()) {
      String replacement = COUNTERS_WITHOUT_TOTAL.contains(m.group(1)) ? "# TYPE " + m.group(1) + " counter"
          : m.group(0);
      m.appendReplacement(out, Matcher.quoteReplacement(replacement));
    }
    m.appendTail(out);
    return out.toString();
  }

  /** A monotonic count per label values, collected under its exact name. */
  private static final class PlainCounter implements Collector {
    private final String name;
    private final String help;
    private final String[] labelNames;
    private final Map<List<String>, DoubleAdder> values = new ConcurrentHashMap<>();

    PlainCounter(String name, String help, String... labelNames) {
      this.name = name;
      this.help = help;
      this.labelNames = labelNames;
    }

    void inc(String... labelValues) {
      touch(labelValues).add(1);
    }

    DoubleAdder touch(String... labelValues) {
      if (labelValues.length != labelNames.length) {
        throw new IllegalArgumentException(name + " takes labels " + List.of(labelNames));
      }
      return values.computeIfAbsent(List.of(labelValues), k -> new DoubleAdder());
    }

    @Override
    public MetricSnapshot collect() {
      UnknownSnapshot.Builder b = UnknownSnapshot.builder().name(name).help(help);
      values.forEach((labels, n) -> b.dataPoint(UnknownSnapshot.UnknownDataPointSnapshot.builder()
          .labels(Labels.of(labelNames, labels.toArray(String[]::new))).value(n.sum()).build()));
      return b.build();
    }

    @Override
    public String getPrometheusName() {
      return name;
    }
  }
}
