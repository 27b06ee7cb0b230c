package weft.xds.telemetry;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.core.v3.GrpcService;
import io.envoyproxy.envoy.config.trace.v3.DatadogConfig;
import io.envoyproxy.envoy.config.trace.v3.OpenTelemetryConfig;
import io.envoyproxy.envoy.config.trace.v3.Tracing.Http;
import io.envoyproxy.envoy.config.trace.v3.ZipkinConfig;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.type.tracing.v3.CustomTag;
import io.envoyproxy.envoy.type.v3.Percent;
import java.util.Map;
import weft.model.MeshTelemetry;
import weft.model.Telemetry;

/**
 * An HTTP connection manager's {@code tracing}: the provider's Envoy tracer reporting to the
 * collector's outbound cluster, Istio's sampling (100% client and overall sampling, the Telemetry's
 * random sampling) and custom tags.
 */
public final class TracingConfigs {
  private TracingConfigs() {}

  /**
   * The tracing block for one side.
   *
   * @param collectorCluster the outbound cluster of the provider's service and port
   * @param serviceName the name spans carry for this proxy (opentelemetry, datadog)
   */
  public static HttpConnectionManager.Tracing of(EffectiveTelemetry.Tracing tracing, String collectorCluster,
      String serviceName) {
    MeshTelemetry.Provider p = tracing.provider();
    MeshTelemetry.Tracer t = p.tracer();
    HttpConnectionManager.Tracing.Builder b = HttpConnectionManager.Tracing.newBuilder()
        .setProvider(provider(p.type(), t, collectorCluster, serviceName))
        .setClientSampling(Percent.newBuilder().setValue(100))
        .setOverallSampling(Percent.newBuilder().setValue(100))
        .setRandomSampling(Percent.newBuilder().setValue(tracing.randomSamplingPercentage()));
    if (t.maxTagLength() > 0) b.setMaxPathTagLength(UInt32Value.of(t.maxTagLength()));
    for (Map.Entry<String, Telemetry.CustomTag> e : new java.util.TreeMap<>(tracing.customTags()).entrySet()) {
      b.addCustomTags(tag(e.getKey(), e.getValue()));
    }
    return b.build();
  }

  private static Http provider(String type, MeshTelemetry.Tracer t, String cluster, String serviceName) {
    return switch (type) {
      case "zipkin" -> Http.newBuilder().setName("envoy.tracers.zipkin").setTypedConfig(Any.pack(
          ZipkinConfig.newBuilder().setCollectorCluster(cluster).setCollectorEndpoint(t.path())
              .setCollectorEndpointVersion(ZipkinConfig.CollectorEndpointVersion.HTTP_JSON)
              .setCollectorHostname(t.service()).setTraceId128Bit(t.traceId128Bit())
              .setSharedSpanContext(com.google.protobuf.BoolValue.of(false)).build())).build();
      case "opentelemetry" -> Http.newBuilder().setName("envoy.tracers.opentelemetry").setTypedConfig(Any.pack(
          OpenTelemetryConfig.newBuilder().setGrpcService(GrpcService.newBuilder().setEnvoyGrpc(
              GrpcService.EnvoyGrpc.newBuilder().setClusterName(cluster).setAuthority(t.service())))
              .setServiceName(serviceName).build())).build();
      case "datadog" -> Http.newBuilder().setName("envoy.tracers.datadog").setTypedConfig(Any.pack(
          DatadogConfig.newBuilder().setCollectorCluster(cluster).setServiceName(serviceName)
              .setCollectorHostname(t.service()).build())).build();
      default -> throw new IllegalArgumentException("no tracer for provider type " + type);
    };
  }

  private static CustomTag tag(String name, Telemetry.CustomTag t) {
    CustomTag.Builder b = CustomTag.newBuilder().setTag(name);
    String fallback = t.defaultValue() == null ? "" : t.defaultValue();
    if (t.literal() != null) {
      b.setLiteral(CustomTag.Literal.newBuilder().setValue(t.literal()));
    } else if (t.environment() != null) {
      b.setEnvironment(CustomTag.Environment.newBuilder().setName(t.environment()).setDefaultValue(fallback));
    } else {
      b.setRequestHeader(CustomTag.Header.newBuilder().setName(t.header()).setDefaultValue(fallback));
    }
    return b.build();
  }
}
