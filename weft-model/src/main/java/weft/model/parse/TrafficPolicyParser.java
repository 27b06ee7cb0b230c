package weft.model.parse;

import java.util.ArrayList;
import java.util.List;
import weft.model.DestinationRule.ConnectionPool;
import weft.model.DestinationRule.ConsistentHash;
import weft.model.DestinationRule.LoadBalancer;
import weft.model.DestinationRule.OutlierDetection;
import weft.model.DestinationRule.Tls;
import weft.model.DestinationRule.TrafficPolicy;
import weft.model.LocalityLbSetting;

/** A DestinationRule TrafficPolicy (top level, per subset, or per port). */
final class TrafficPolicyParser {
  private static final List<String> SIMPLE_LB =
      List.of("UNSPECIFIED", "LEAST_CONN", "RANDOM", "PASSTHROUGH", "ROUND_ROBIN", "LEAST_REQUEST");
  private static final List<String> TLS_MODES = List.of("DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL");

  private TrafficPolicyParser() {}

  /** Reads a policy; null when absent. Port-level entries carry their port and no nested port list. */
  static TrafficPolicy read(Fields tp, boolean portLevel) {
    if (!tp.present()) return null;
    Report report = tp.report();
    int port = 0;
    if (portLevel) {
      Fields selector = tp.object("port");
      if (!selector.present() || !selector.has("number")) {
        report.error(tp.at("port"), tp.at("port") + ".number is missing; every portLevelSettings entry names its port");
      }
      Integer number = selector.port("number");
      selector.rejectUnknown("PortSelector");
      port = number == null ? 0 : number;
    }
    boolean hasOutlier = tp.has("outlierDetection");
    LoadBalancer lb = loadBalancer(tp.object("loadBalancer"), hasOutlier);
    ConnectionPool pool = connectionPool(tp.object("connectionPool"));
    OutlierDetection outlier = outlierDetection(tp.object("outlierDetection"));
    Tls tls = tls(tp.object("tls"));
    List<TrafficPolicy> perPort = new ArrayList<>();
    if (!portLevel) {
      for (Fields p : tp.objects("portLevelSettings")) {
        TrafficPolicy t = read(p, true);
        if (t != null) perPort.add(t);
      }
      if (tp.has("tunnel") && tp.has("proxyProtocol")) {
        report.error(tp.at("tunnel"), "tunnel and proxyProtocol cannot be set together; keep one of them");
      }
      tp.notImplemented("tunnel", "proxyProtocol", "retryBudget");
    }
    tp.rejectUnknown(portLevel ? "TrafficPolicy.PortTrafficPolicy" : "TrafficPolicy");
    if (lb == null && pool == null && outlier == null && tls == null && perPort.isEmpty()
        && !tp.has("tunnel") && !tp.has("proxyProtocol") && !tp.has("retryBudget")) {
      report.error(tp.path(), tp.path() + " is empty; set at least one policy (loadBalancer, connectionPool, "
          + "outlierDetection, tls" + (portLevel ? "" : ", portLevelSettings") + ") or remove it");
    }
    return new TrafficPolicy(port, lb, pool, outlier, tls, perPort);
  }

  private static LoadBalancer loadBalancer(Fields lb, boolean hasOutlier) {
    if (!lb.present()) return null;
    String simple = lb.enumOf("simple", SIMPLE_LB, null);
    if ("LEAST_CONN".equals(simple)) {
      lb.report().warn(lb.at("simple"), "LEAST_CONN is deprecated in Istio; use LEAST_REQUEST");
    }
    if (lb.has("simple") && lb.has("consistentHash")) {
      lb.report().error(lb.at("consistentHash"), "simple and consistentHash cannot both be set; keep one of them");
    }
    ConsistentHash hash = consistentHash(lb.object("consistentHash"));
    LocalityLbSetting locality = LocalityLbParser.read(lb.object("localityLbSetting"), hasOutlier);
    lb.notImplemented("zoneAwareLbSetting", "warmupDurationSecs", "warmup");
    lb.rejectUnknown("LoadBalancerSettings");
    return new LoadBalancer(simple, hash, locality);
  }

  private static ConsistentHash consistentHash(Fields ch) {
    if (!ch.present()) return null;
    Report report = ch.report();
    String header = ch.string("httpHeaderName");
    String cookie = null;
    Fields httpCookie = ch.object("httpCookie");
    if (httpCookie.present()) {
      cookie = httpCookie.string("name");
      if (cookie == null || cookie.isEmpty()) {
        report.error(httpCookie.at("name"), httpCookie.at("name") + " is missing; a hash cookie needs a name");
      }
      httpCookie.notImplemented("path", "ttl", "attributes");
      httpCookie.rejectUnknown("HTTPCookie");
    }
    boolean sourceIpSet = ch.has("useSourceIp");
    boolean sourceIp = ch.bool("useSourceIp", false);
    String query = ch.string("httpQueryParameterName");
    int keys = (header != null ? 1 : 0) + (httpCookie.present() ? 1 : 0) + (sourceIpSet ? 1 : 0) + (query != null ? 1 : 0);
    if (keys > 1) {
      report.error(ch.path(), "consistentHash sets " + keys + " hash keys; set exactly one of httpHeaderName, "
          + "httpCookie, useSourceIp or httpQueryParameterName");
    } else if (keys == 0) {
      report.warn(ch.path(), "consistentHash sets no hash key (httpHeaderName, httpCookie, useSourceIp or "
          + "httpQueryParameterName), so requests are not hashed to a stable endpoint");
    }
    long ringSize = 0;
    Fields ringHash = ch.object("ringHash");
    if (ringHash.present()) {
      Long size = ringHash.integerIn("minimumRingSize", 0, Long.MAX_VALUE, "use a positive ring size");
      ringHash.rejectUnknown("ConsistentHashLB.RingHash");
      ringSize = size == null ? 0 : size;
    }
    if (ringHash.present() && ch.has("maglev")) {
      report.error(ch.at("maglev"), "ringHash and maglev cannot both be set; keep one of them");
    }
    if (ch.has("minimumRingSize")) {
      Long size = ch.integerIn("minimumRingSize", 0, Long.MAX_VALUE, "use a positive ring size");
      if (ringHash.present() || ch.has("maglev")) {
        report.error(ch.at("minimumRingSize"), "minimumRingSize cannot be combined with ringHash or maglev; move it "
            + "to ringHash.minimumRingSize");
      } else {
        report.warn(ch.at("minimumRingSize"), "minimumRingSize is deprecated in Istio; use ringHash.minimumRingSize");
        ringSize = size == null ? 0 : size;
      }
    }
    ch.notImplemented("maglev");
    ch.rejectUnknown("LoadBalancerSettings.ConsistentHashLB");
    return new ConsistentHash(header, cookie, sourceIp, query, ringSize);
  }

  /** Istio's ConnectionPoolSettings (DestinationRule, Sidecar inboundConnectionPool and ingress connectionPool). */
  static ConnectionPool connectionPool(Fields cp) {
    if (!cp.present()) return null;
    Fields tcp = cp.object("tcp");
    Fields http = cp.object("http");
    if (!tcp.present() && !http.present()) {
      cp.report().error(cp.path(), cp.path() + " sets neither tcp nor http; add settings or remove it");
    }
    Integer maxConnections = tcp.nonNegative("maxConnections");
    var connectTimeout = tcp.duration("connectTimeout", true);
    tcp.notImplemented("tcpKeepalive", "maxConnectionDuration", "idleTimeout");
    tcp.rejectUnknown("ConnectionPoolSettings.TCPSettings");
    Integer pending = http.nonNegative("http1MaxPendingRequests");
    Integer requests = http.nonNegative("http2MaxRequests");
    Integer perConnection = http.nonNegative("maxRequestsPerConnection");
    Integer retries = http.nonNegative("maxRetries");
    http.notImplemented("idleTimeout", "h2UpgradePolicy", "useClientProtocol", "maxConcurrentStreams",
        "http2KeepAlive");
    http.rejectUnknown("ConnectionPoolSettings.HTTPSettings");
    cp.rejectUnknown("ConnectionPoolSettings");
    return new ConnectionPool(maxConnections, connectTimeout, pending, requests, perConnection, retries);
  }

  private static OutlierDetection outlierDetection(Fields od) {
    if (!od.present()) return null;
    Integer deprecated = null;
    if (od.has("consecutiveErrors")) {
      deprecated = od.nonNegative("consecutiveErrors");
      od.report().warn(od.at("consecutiveErrors"), od.at("consecutiveErrors") + " is deprecated in Istio; use "
          + "consecutiveGatewayErrors or consecutive5xxErrors (Weft reads it as consecutiveGatewayErrors, as Istio does)");
    }
    Integer errors5xx = od.nonNegative("consecutive5xxErrors");
    Integer gatewayErrors = od.nonNegative("consecutiveGatewayErrors");
    if (gatewayErrors == null && deprecated != null && deprecated > 0) gatewayErrors = deprecated;
    var interval = od.duration("interval", true);
    var baseEjectionTime = od.duration("baseEjectionTime", true);
    Integer maxEjection = od.percent("maxEjectionPercent");
    Integer minHealth = od.percent("minHealthPercent");
    od.notImplemented("splitExternalLocalOriginErrors", "consecutiveLocalOriginFailures",
        "outlierDetectionHttpErrorCodes");
    od.rejectUnknown("OutlierDetection");
    return new OutlierDetection(errors5xx, gatewayErrors, interval, baseEjectionTime, maxEjection, minHealth);
  }

  private static Tls tls(Fields t) {
    if (!t.present()) return null;
    Report report = t.report();
    String mode = t.enumOf("mode", TLS_MODES, "DISABLE");
    if (mode == null) mode = "DISABLE";
    String sni = t.string("sni");
    List<String> sans = t.strings("subjectAltNames");
    String ca = nonEmpty(t.string("caCertificates"));
    String cert = nonEmpty(t.string("clientCertificate"));
    String key = nonEmpty(t.string("privateKey"));
    String credential = nonEmpty(t.string("credentialName"));
    String crl = nonEmpty(t.string("caCrl"));
    boolean skipVerify = t.bool("insecureSkipVerify", false);
    boolean originates = "SIMPLE".equals(mode) || "MUTUAL".equals(mode);
    if ("MUTUAL".equals(mode) && credential == null && (cert == null || key == null)) {
      report.error(t.path(), "tls mode MUTUAL needs clientCertificate and privateKey (or credentialName); add "
          + "them or use ISTIO_MUTUAL");
    }
    if ((cert == null) != (key == null) && credential == null && originates) {
      report.error(t.path(), "clientCertificate and privateKey go together; set both or neither");
    }
    if (credential != null && (ca != null || cert != null || key != null) && originates) {
      // Istio's validation: the Secret carries the files, so both at once is ambiguous.
      report.error(t.at("credentialName"), "credentialName cannot be combined with caCertificates, "
          + "clientCertificate or privateKey; the Secret holds them, so keep one of the two forms");
    }
    if (originates) {
      // Never plaintext where TLS was asked: what a kind of proxy cannot honour leaves the cluster
      // out of that proxy's config (the generators), and is an error here so `weft status` shows it.
      if (credential != null) {
        report.failClosed(t.at("credentialName"), t.at("credentialName") + " " + credential + ": the Secret is "
            + "sent over SDS only to Envoy proxies that proved their identity on the secure port (15012); for "
            + "proxyless gRPC clients (grpc-java has no SDS) and Envoy on the plaintext port the clusters this tls "
            + "setting applies to are left out, and calls to them fail rather than go out without the requested "
            + "TLS. For those, mount the files and use caCertificates, clientCertificate and privateKey");
      } else {
        List<String> proxylessGaps = new ArrayList<>();
        if (skipVerify) proxylessGaps.add("insecureSkipVerify");
        if (ca != null) proxylessGaps.add("caCertificates (a file)");
        if (cert != null || key != null) proxylessGaps.add("clientCertificate/privateKey (files)");
        if (crl != null) proxylessGaps.add("caCrl");
        if (!proxylessGaps.isEmpty()) {
          report.failClosed(t.at("mode"), t.at("mode") + " " + mode + " with " + String.join(", ", proxylessGaps)
              + ": proxyless gRPC clients (grpc-java takes certificates only from its bootstrap's certificate "
              + "providers, and cannot skip verification) cannot honour it, so the clusters it applies to are "
              + "left out of their config; Envoy proxies originate it. For proxyless clients use mode SIMPLE "
              + "with the system's root certificates (no caCertificates) or ISTIO_MUTUAL");
        }
      }
    } else if (ca != null || cert != null || key != null || credential != null || crl != null || skipVerify) {
      report.warn(t.path(), "caCertificates, clientCertificate, privateKey, credentialName, caCrl and "
          + "insecureSkipVerify apply to modes SIMPLE and MUTUAL only; with mode " + mode + " they are ignored");
    }
    t.rejectUnknown("ClientTLSSettings");
    return new Tls(mode, sni, sans, ca, cert, key, credential, skipVerify, crl);
  }

  private static String nonEmpty(String s) {
    return s == null || s.isEmpty() ? null : s;
  }
}
