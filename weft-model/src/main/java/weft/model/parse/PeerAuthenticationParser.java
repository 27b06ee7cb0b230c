package weft.model.parse;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import weft.model.PeerAuthentication;

/**
 * A {@code security.istio.io} PeerAuthentication, checked field by field against Istio's schema
 * (security/v1beta1/peer_authentication.proto) and as Istio's validation and CRD rules check it.
 */
final class PeerAuthenticationParser {
  /** Istio's MutualTLS.Mode names, in enum number order. */
  private static final List<String> MODES = List.of("UNSET", "DISABLE", "PERMISSIVE", "STRICT");

  private PeerAuthenticationParser() {}

  static PeerAuthentication parse(Document d) {
    Fields spec = d.root().object("spec");
    Report report = d.report();
    Map<String, String> selector = SecurityChecks.selector(spec);
    String mode = mode(spec.object("mtls"));
    JsonNode raw = spec.take("portLevelMtls");
    Map<String, Fields> entries = spec.objectMap("portLevelMtls");
    Map<Integer, String> ports = new TreeMap<>();
    if (raw != null && raw.isObject()) {
      String at = spec.at("portLevelMtls");
      if (raw.isEmpty()) {
        report.error(at, at + " is empty; list at least one port, e.g. 8080: {mode: DISABLE}, or remove it");
      } else if (selector == null) {
        report.error(at, at + " needs a selector with labels: port-level modes only apply to selected workloads, "
            + "not to a whole namespace or mesh; add selector: {matchLabels: {app: ...}} or remove portLevelMtls");
      }
    }
    entries.forEach((key, entry) -> {
      String where = entry.path();
      Integer port = portKey(key);
      if (port == null) {
        report.error(where, "port \"" + key + "\" in " + spec.at("portLevelMtls") + " is not a port number from 1 to "
            + "65535; key each entry by the workload's port, e.g. 8080: {mode: DISABLE}");
      }
      if (!entry.present()) {
        report.error(where, where + " must be a mapping such as {mode: DISABLE}, got nothing");
        return;
      }
      String portMode = mode(entry);
      if (port != null && portMode != null) ports.put(port, portMode);
    });
    spec.rejectUnknown("PeerAuthentication");
    return new PeerAuthentication(d.id(), selector, mode == null ? "UNSET" : mode, ports);
  }

  /** A MutualTLS message; UNSET when absent, null after an error. */
  private static String mode(Fields mtls) {
    String mode = mtls.enumOf("mode", MODES, "UNSET");
    mtls.rejectUnknown("MutualTLS");
    return mode;
  }

  /** Map keys are uint32 in decimal, as protobuf JSON writes them; Istio allows 1 to 65535. */
  private static Integer portKey(String key) {
    if (key.isEmpty() || key.length() > 10 || !key.chars().allMatch(c -> c >= '0' && c <= '9')) return null;
    long port = Long.parseLong(key);
    return port >= 1 && port <= 65535 ? (int) port : null;
  }
}
