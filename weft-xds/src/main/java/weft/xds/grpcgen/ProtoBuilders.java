package weft.xds.grpcgen;

import com.google.protobuf.Duration;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.type.v3.FractionalPercent;

/** Small helpers for protos every generator builds the same way. */
final class ProtoBuilders {
  private ProtoBuilders() {}

  /** "Fetch this over the same ADS stream", as every Istio-generated reference says. */
  static ConfigSource ads() {
    return ConfigSource.newBuilder()
        .setAds(AggregatedConfigSource.getDefaultInstance())
        .setResourceApiVersion(ApiVersion.V3)
        .build();
  }

  static Duration duration(java.time.Duration d) {
    return Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
  }

  /** Istio percentages are 0–100 with decimals; Envoy's finest fixed denominator is a million. */
  static FractionalPercent percent(Double percentage) {
    double p = percentage == null ? 100.0 : percentage;
    return FractionalPercent.newBuilder()
        .setNumerator((int) Math.round(p * 10_000))
        .setDenominator(FractionalPercent.DenominatorType.MILLION)
        .build();
  }
}
