package weft.model.parse;

import java.util.List;
import java.util.Map;
import weft.model.ProxyConfig;

/**
 * A {@code networking.istio.io} ProxyConfig (networking/v1beta1/proxy_config.proto): selector,
 * {@code concurrency}, {@code environmentVariables} and {@code image.imageType}.
 */
final class ProxyConfigParser {
  /** Istio's documented image types; others are accepted by its schema (a string), so only warned. */
  private static final List<String> IMAGE_TYPES = List.of("default", "debug", "distroless");

  private ProxyConfigParser() {}

  static ProxyConfig parse(Document d) {
    Fields spec = d.root().object("spec");
    Report report = d.report();
    Map<String, String> selector = SecurityChecks.selector(spec);
    Integer concurrency = spec.int32("concurrency", 0, Integer.MAX_VALUE,
        "use 0 (one worker per core) or a positive number");
    Map<String, String> env = spec.stringMap("environmentVariables");
    for (String name : env.keySet()) {
      if (name.isEmpty() || name.contains("=") || name.chars().anyMatch(c -> c < 0x21 || c > 0x7e)) {
        report.error(spec.at("environmentVariables") + "." + Checks.quote(name), "environment variable name "
            + Checks.quote(name) + " is not a valid name (printable, no '=' or spaces); rename it");
      }
    }
    Fields image = spec.object("image");
    String imageType = image.string("imageType");
    image.rejectUnknown("ProxyImage");
    if (imageType != null && !IMAGE_TYPES.contains(imageType)) {
      report.warn(image.at("imageType"), image.at("imageType") + " " + Checks.quote(imageType) + " is not one of "
          + IMAGE_TYPES + "; Istio's injector would look for an image with that suffix");
    }
    spec.rejectUnknown("ProxyConfig");
    return new ProxyConfig(d.id(), selector, concurrency, imageType, env);
  }
}
