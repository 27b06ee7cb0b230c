package weft.xds.telemetry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import weft.model.MeshTelemetry;
import weft.model.Telemetry;

/**
 * Which Telemetry resources apply to a proxy and what they add up to, by Istio's rules
 * (pilot/pkg/model/telemetry.go): the root namespace's namespace-wide resource, then the proxy's
 * namespace's, then the first one in its namespace that selects it. A later scope's provider list
 * replaces an earlier one's; an entry without providers inherits the one before; {@code disabled}
 * turns the providers it names (or inherits) off; {@code match.mode} limits an entry to the client or
 * the server side. A pure function of its inputs.
 */
public final class TelemetryMerge {
  /**
   * The sampling percentage when no Telemetry sets one: Istio's default trace sampling
   * ({@code PILOT_TRACE_SAMPLING}, 1%).
   */
  static final double DEFAULT_SAMPLING = 1.0;
  /** The label Istio puts on a Gateway API gateway's proxies; a Telemetry targeting that Gateway selects them. */
  static final String GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name";

  private TelemetryMerge() {}

  /** The Telemetries in scope for a proxy of {@code namespace} with {@code labels}, least specific first. */
  public static List<Telemetry> applicable(List<Telemetry> all, String rootNamespace, String namespace,
      Map<String, String> labels) {
    List<Telemetry> out = new ArrayList<>();
    Telemetry root = namespaceWide(all, rootNamespace);
    if (root != null) out.add(root);
    if (!namespace.equals(rootNamespace)) {
      Telemetry ns = namespaceWide(all, namespace);
      if (ns != null) out.add(ns);
    }
    for (Telemetry t : all) {
      if (t.id().namespace().equals(namespace) && selects(t, labels)) {
        out.add(t);
        break; // Istio applies one workload-level Telemetry: the first that selects the proxy
      }
    }
    return out;
  }

  private static Telemetry namespaceWide(List<Telemetry> all, String namespace) {
    for (Telemetry t : all) {
      if (t.id().namespace().equals(namespace) && t.selector() == null && t.targetRefs().isEmpty()) return t;
    }
    return null;
  }

  private static boolean selects(Telemetry t, Map<String, String> labels) {
    if (t.selector() != null) {
      for (Map.Entry<String, String> e : t.selector().entrySet()) {
        if (!e.getValue().equals(labels.get(e.getKey()))) return false;
      }
      return true;
    }
    for (Telemetry.TargetRef ref : t.targetRefs()) {
      if (ref.group().equals("gateway.networking.k8s.io") && ref.kind().equals("Gateway")
          && ref.name().equals(labels.get(GATEWAY_NAME_LABEL))) {
        return true;
      }
    }
    return false;
  }

  /** What the applicable Telemetries and the mesh's providers ask of a proxy. */
  public static EffectiveTelemetry merge(List<Telemetry> applicable, MeshTelemetry mesh) {
    Map<String, String> notes = new TreeMap<>();
    List<EffectiveTelemetry.AccessLog> client = logs(applicable, mesh, Telemetry.Mode.CLIENT, notes);
    List<EffectiveTelemetry.AccessLog> server = logs(applicable, mesh, Telemetry.Mode.SERVER, notes);
    EffectiveTelemetry.Tracing[] tracing = tracing(applicable, mesh, notes);
    return new EffectiveTelemetry(client, server, tracing == null ? null : tracing[0],
        tracing == null ? null : tracing[1], notes);
  }

  /** The access logs of one side; null when neither Telemetry nor a default provider configures logging. */
  private static List<EffectiveTelemetry.AccessLog> logs(List<Telemetry> applicable, MeshTelemetry mesh,
      Telemetry.Mode side, Map<String, String> notes) {
    boolean configured = applicable.stream().anyMatch(t -> !t.accessLogging().isEmpty());
    List<String> defaults = mesh.defaultAccessLogging();
    if (!configured && defaults.isEmpty()) return null;
    Map<String, String> chosen = new TreeMap<>(); // provider → its filter expression ("" for none)
    if (!configured) {
      for (String d : defaults) chosen.put(d, "");
    } else {
      // The deepest scope that names providers decides which are in scope; the filter an entry
      // gives a provider is the last one written for it, whichever side it was written for.
      List<String> inScope = defaults;
      Map<String, String> filters = new HashMap<>();
      for (Telemetry t : applicable) {
        Set<String> named = new LinkedHashSet<>();
        for (Telemetry.AccessLogging l : t.accessLogging()) {
          named.addAll(l.providers());
          for (String p : l.providers()) filters.put(p, l.filterExpression() == null ? "" : l.filterExpression());
        }
        if (!named.isEmpty()) inScope = List.copyOf(named);
      }
      Set<String> scope = Set.copyOf(inScope);
      List<String> parent = defaults;
      for (Telemetry t : applicable) {
        for (Telemetry.AccessLogging l : t.accessLogging()) {
          List<String> providers = l.providers().isEmpty() ? parent : l.providers();
          parent = providers;
          if (!l.mode().covers(side)) continue;
          for (String p : providers) {
            if (!scope.contains(p)) continue;
            if (Boolean.TRUE.equals(l.disabled())) {
              chosen.remove(p);
            } else {
              chosen.put(p, filters.getOrDefault(p, ""));
            }
          }
        }
      }
    }
    List<EffectiveTelemetry.AccessLog> out = new ArrayList<>();
    chosen.forEach((name, filter) -> {
      MeshTelemetry.Provider provider = mesh.provider(name);
      if (provider == null) {
        notes.put("telemetry provider " + name, "named by a Telemetry or defaultProviders but not defined in "
            + "MeshConfig extensionProviders; no access log for it");
      } else if (provider.fileAccessLog() == null) {
        notes.put("telemetry provider " + name, "a " + provider.type() + " provider, which Weft does not "
            + "generate (it writes envoyFileAccessLog logs only); no access log for it");
      } else {
        out.add(new EffectiveTelemetry.AccessLog(provider, filter.isEmpty() ? null : filter));
      }
    });
    return out;
  }

  /** Client and server tracing, or null when neither Telemetry nor a default provider configures it. */
  private static EffectiveTelemetry.Tracing[] tracing(List<Telemetry> applicable, MeshTelemetry mesh,
      Map<String, String> notes) {
    boolean configured = applicable.stream().anyMatch(t -> !t.tracing().isEmpty());
    if (!configured && mesh.defaultTracing().isEmpty()) return null;
    TracingBuilder client = new TracingBuilder();
    TracingBuilder server = new TracingBuilder();
    if (!mesh.defaultTracing().isEmpty()) {
      // Like Istio, only the first default provider is used.
      String name = mesh.defaultTracing().get(0);
      client.provider = server.provider = tracer(mesh, name, notes);
    }
    for (Telemetry t : applicable) {
      for (Telemetry.Tracing tr : t.tracing()) {
        List<TracingBuilder> sides = switch (tr.mode()) {
          case CLIENT -> List.of(client);
          case SERVER -> List.of(server);
          case CLIENT_AND_SERVER -> List.of(client, server);
        };
        if (!tr.providers().isEmpty()) {
          // One provider per side, as in Istio: the first named.
          MeshTelemetry.Provider p = tracer(mesh, tr.providers().get(0), notes);
          sides.forEach(s -> s.provider = p);
        }
        if (tr.disableSpanReporting() != null) sides.forEach(s -> s.disabled = tr.disableSpanReporting());
        if (tr.customTags() != null) sides.forEach(s -> s.tags = tr.customTags());
        if (tr.randomSamplingPercentage() != null) sides.forEach(s -> s.sampling = tr.randomSamplingPercentage());
        if (tr.useRequestIdForTraceSampling() != null) {
          sides.forEach(s -> s.useRequestId = tr.useRequestIdForTraceSampling());
        }
      }
    }
    return new EffectiveTelemetry.Tracing[] {client.build(), server.build()};
  }

  private static MeshTelemetry.Provider tracer(MeshTelemetry mesh, String name, Map<String, String> notes) {
    MeshTelemetry.Provider p = mesh.provider(name);
    if (p == null) {
      notes.put("telemetry provider " + name, "named for tracing but not defined in MeshConfig extensionProviders; "
          + "tracing is off");
      return null;
    }
    if (p.tracer() == null) {
      notes.put("telemetry provider " + name, "a " + p.type() + " provider, which Weft cannot use for tracing "
          + "(zipkin, opentelemetry and datadog are generated); tracing is off");
      return null;
    }
    return p;
  }

  private static final class TracingBuilder {
    MeshTelemetry.Provider provider;
    boolean disabled;
    double sampling = DEFAULT_SAMPLING;
    Map<String, Telemetry.CustomTag> tags = Map.of();
    boolean useRequestId = true;

    EffectiveTelemetry.Tracing build() {
      return new EffectiveTelemetry.Tracing(provider, disabled || provider == null, sampling, tags, useRequestId);
    }
  }
}
