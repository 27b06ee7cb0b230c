package weft.model.parse;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import weft.model.Gateway;

/**
 * A {@code networking.istio.io} Gateway, checked field by field against Istio's schema
 * (networking/v1alpha3/gateway.proto) and as Istio's validation checks it.
 *
 * <p>Two things worth knowing. An unset {@code tls.mode} is Istio's enum default, PASSTHROUGH (not
 * SIMPLE): that is what lets {@code tls: {httpsRedirect: true}} sit on a plain HTTP server, and why Istio
 * only warns, and ignores the certificates, when a server gives certificates but no mode. And Istio refuses
 * {@code port.targetPort} on Gateways, so a kept Gateway's ports always have targetPort 0.
 */
final class GatewayParser {
  /** Istio's TLSmode names, in enum number order. */
  private static final List<String> TLS_MODES =
      List.of("PASSTHROUGH", "SIMPLE", "MUTUAL", "AUTO_PASSTHROUGH", "ISTIO_MUTUAL", "OPTIONAL_MUTUAL");
  /** Istio's protocols that are TLS on the wire (protocol.Instance.IsTLS). */
  private static final Set<String> TLS_PROTOCOLS = Set.of("HTTPS", "TLS");
  /** Istio's protocols that are plain HTTP (protocol.Instance.IsHTTP). */
  private static final Set<String> HTTP_PROTOCOLS = Set.of("HTTP", "HTTP2", "HTTP_PROXY", "GRPC", "GRPC-WEB");
  private static final String UNIX = "unix://";

  private GatewayParser() {}

  static Gateway parse(Document d) {
    Fields spec = d.root().object("spec");
    Report report = d.report();
    String name = d.id().name();
    if (!Checks.isDnsLabel(name)) {
      report.error("metadata.name", "Gateway name \"" + name + "\" is not a valid DNS-1123 label (lower-case letters, "
          + "digits and '-', no dots, at most 63); Istio refuses it, so rename the Gateway");
    }
    Map<String, String> selector = spec.stringMap("selector");
    Checks.labels(report, spec.at("selector"), selector);
    JsonNode rawServers = spec.take("servers");
    List<Fields> serverFields = spec.objects("servers");
    if (rawServers == null || (rawServers.isArray() && rawServers.isEmpty())) {
      report.error(spec.at("servers"), spec.at("servers") + " is " + (rawServers == null ? "missing" : "empty")
          + "; a Gateway needs at least one server, e.g. {port: {number: 80, name: http, protocol: HTTP}, "
          + "hosts: [\"*\"]}");
    }
    Set<String> portNames = new HashSet<>();
    List<Gateway.Server> servers = new ArrayList<>();
    for (Fields s : serverFields) servers.add(server(s, portNames));
    spec.rejectUnknown("Gateway");
    return new Gateway(d.id(), selector, servers);
  }

  private static Gateway.Server server(Fields s, Set<String> portNames) {
    Report report = s.report();
    String bind = emptyToNull(s.string("bind"));
    boolean portGiven = s.has("port");
    Fields p = s.object("port");
    PortRead port = null;
    if (p.present()) {
      port = port(p, bind, portNames);
    } else if (!portGiven) {
      report.error(s.at("port"), s.at("port") + " is missing; every server needs a port, e.g. {number: 80, name: "
          + "http, protocol: HTTP}");
    }
    List<String> hosts = hosts(s);
    boolean tlsGiven = s.has("tls");
    Fields t = s.object("tls");
    Gateway.Tls tls = t.present() ? tls(t) : null;
    s.notImplemented("defaultEndpoint");
    String name = emptyToNull(s.string("name"));
    s.rejectUnknown("Server");

    checkBind(s, p, bind, port);
    if (port != null && port.valid()) {
      String protocol = port.port().protocol();
      if (TLS_PROTOCOLS.contains(protocol) && !tlsGiven) {
        report.error(s.at("tls"), s.at("tls") + " is missing; a " + protocol + " server needs TLS settings, e.g. "
            + "tls: {mode: SIMPLE, credentialName: my-secret}, or tls: {mode: PASSTHROUGH}");
      } else if (!TLS_PROTOCOLS.contains(protocol) && tls != null) {
        if (!isHttp(protocol)) {
          report.error(s.at("tls"), "a " + protocol + " server cannot have TLS settings; use protocol TLS (or HTTPS) "
              + "to serve TLS, or remove tls");
        } else if (!passthrough(tls.mode()) || tls.caCertificates() != null || tls.privateKey() != null
            || tls.serverCertificate() != null) {
          report.error(s.at("tls"), "a plain-text " + protocol + " server can only use tls for httpsRedirect; remove "
              + "the TLS mode and certificates, or use protocol HTTPS to terminate TLS");
        }
      }
    }
    if (port != null && tls != null && tls.httpsRedirect() && !isHttp(port.port().protocol())) {
      report.warn(t.at("httpsRedirect"), t.at("httpsRedirect") + " only has an effect on HTTP servers; remove it");
    }
    Gateway.Port record = port == null ? new Gateway.Port(0, null, null, 0) : port.port();
    return new Gateway.Server(record, hosts, tls, name, bind);
  }

  /** A server port, and whether it passed Istio's port checks (the TLS-versus-protocol rules need a good port). */
  private record PortRead(Gateway.Port port, boolean valid) {}

  private static PortRead port(Fields p, String bind, Set<String> portNames) {
    Report report = p.report();
    boolean unix = bind != null && bind.startsWith(UNIX);
    boolean valid = true;
    Long number = p.integer("number");
    if (number == null) {
      if (p.has("number")) {
        valid = false; // not a number; already reported
      } else if (!unix) {
        report.error(p.at("number"), p.at("number") + " is missing; set the port number (1 to 65535)");
        valid = false;
      }
    } else if ((number != 0 || !unix) && (number < 1 || number > 65535)) {
      report.error(p.at("number"), p.at("number") + " must be between 1 and 65535, got " + number
          + "; use a port number from 1 to 65535");
      valid = false;
    }
    String protocol = p.string("protocol");
    if (protocol == null || protocol.isEmpty()) {
      if (!p.has("protocol") || protocol != null) {
        report.error(p.at("protocol"), p.at("protocol") + " is missing; set it to HTTP, HTTPS, HTTP2, GRPC, "
            + "GRPC-WEB, TCP, TLS, MONGO, REDIS, MYSQL, UDP or HTTP_PROXY");
      }
      valid = false;
    } else {
      String canonical = Checks.protocol(protocol);
      if (canonical == null) {
        report.error(p.at("protocol"), "unknown protocol \"" + protocol + "\"; use one of HTTP, HTTPS, HTTP2, GRPC, "
            + "GRPC-WEB, TCP, TLS, MONGO, REDIS, MYSQL, UDP, HTTP_PROXY");
        valid = false;
      } else {
        protocol = canonical;
      }
      protocol = protocol.toUpperCase(Locale.ROOT); // Istio reads protocols ignoring case
    }
    String name = p.string("name");
    if (name == null || name.isEmpty()) {
      if (!p.has("name") || name != null) {
        report.error(p.at("name"), p.at("name") + " is missing; every Gateway server port needs a name unique "
            + "within the Gateway, e.g. http or https-443");
      }
      valid = false;
    } else if (!portNames.add(name)) {
      report.error(p.at("name"), "port name \"" + name + "\" is used by another server of this Gateway; port names "
          + "must be unique within a Gateway, so rename one of them");
    }
    Long targetPort = p.integer("targetPort");
    if (targetPort != null && targetPort != 0) {
      report.error(p.at("targetPort"), p.at("targetPort") + " has no effect on a Gateway and Istio refuses it; "
          + "remove it");
      valid = false;
    }
    p.rejectUnknown("Port");
    Gateway.Port port = new Gateway.Port(number == null ? 0 : Math.toIntExact(Math.max(0, Math.min(number, 65535))),
        protocol, name, 0);
    return new PortRead(port, valid);
  }

  private static List<String> hosts(Fields s) {
    Report report = s.report();
    boolean given = s.has("hosts");
    List<String> hosts = s.strings("hosts");
    if (hosts.isEmpty()) {
      report.error(s.at("hosts"), s.at("hosts") + " is " + (given ? "empty" : "missing") + "; a server needs at "
          + "least one host, e.g. \"*\", example.com, \"*.example.com\" or prod/*");
    }
    for (int i = 0; i < hosts.size(); i++) {
      String bad = host(hosts.get(i));
      if (bad != null) report.error(s.at("hosts") + "[" + i + "]", bad);
    }
    return hosts;
  }

  /** {@code [namespace/]dnsName}: namespace is *, . or a name; dnsName is *, a (wildcard) FQDN or an IP. */
  static String host(String host) {
    String fix = "; write it as [namespace/]host, e.g. *, example.com, *.example.com, prod/* or ./reviews.example.com";
    String name = host;
    int slash = host.indexOf('/');
    if (slash >= 0) {
      String ns = host.substring(0, slash);
      name = host.substring(slash + 1);
      if (ns.isEmpty() || name.isEmpty()) return "gateway host \"" + host + "\" has an empty part" + fix;
      if (!ns.equals("*") && !ns.equals(".") && !Checks.isDnsLabel(ns)) {
        return "gateway host \"" + host + "\" names an invalid namespace \"" + ns + "\" (use *, . or a namespace "
            + "name)" + fix;
      }
    }
    if (name.isEmpty()) return "gateway host must not be empty" + fix;
    if (name.equals("*")) return null;
    if (!name.contains(".")) {
      return "gateway host \"" + host + "\" uses the short name \"" + name + "\"; Istio needs a fully qualified name "
          + "(e.g. " + name + ".example.com, or " + name + ".NAMESPACE.svc.cluster.local) or *";
    }
    String bad = Checks.wildcardDomain(name);
    if (bad != null && !Checks.isIp(name)) return "gateway host \"" + host + "\": " + bad;
    return null;
  }

  private static Gateway.Tls tls(Fields t) {
    boolean httpsRedirect = t.bool("httpsRedirect", false);
    boolean modeSet = t.has("mode");
    String mode = t.enumOf("mode", TLS_MODES, "PASSTHROUGH");
    String serverCertificate = emptyToNull(t.string("serverCertificate"));
    String privateKey = emptyToNull(t.string("privateKey"));
    String caCertificates = emptyToNull(t.string("caCertificates"));
    String credentialName = emptyToNull(t.string("credentialName"));
    List<String> subjectAltNames = t.strings("subjectAltNames");
    // Known to Istio, not to Weft: looked at for Istio's rules below, then ignored with one warning each.
    boolean caCrl = set(t.take("caCrl"));
    boolean credentialNames = set(t.take("credentialNames"));
    boolean tlsCertificates = set(t.take("tlsCertificates"));
    t.notImplemented("caCrl", "credentialNames", "caCertCredentialName", "tlsCertificates", "verifyCertificateSpki",
        "verifyCertificateHash", "minProtocolVersion", "maxProtocolVersion", "cipherSuites", "insecureSkipVerify");
    t.rejectUnknown("ServerTLSSettings");
    Gateway.Tls tls = new Gateway.Tls(mode == null ? "PASSTHROUGH" : mode, httpsRedirect, credentialName,
        serverCertificate, privateKey, caCertificates, subjectAltNames);
    if (mode != null) checkTls(t, tls, modeSet, caCrl, credentialNames, tlsCertificates);
    return tls;
  }

  /** Istio's validateTLSOptions, in its order (its early returns included). */
  private static void checkTls(Fields t, Gateway.Tls tls, boolean modeSet, boolean caCrl, boolean credentialNames,
      boolean tlsCertificates) {
    Report report = t.report();
    String mode = tls.mode();
    if (mode.equals("ISTIO_MUTUAL")) {
      String why = " cannot be used with mode ISTIO_MUTUAL, which uses the certificates Istio issues to the gateway; "
          + "remove it";
      if (tls.serverCertificate() != null) report.error(t.at("serverCertificate"), t.at("serverCertificate") + why);
      if (tls.privateKey() != null) report.error(t.at("privateKey"), t.at("privateKey") + why);
      if (tls.caCertificates() != null) report.error(t.at("caCertificates"), t.at("caCertificates") + why);
      if (tlsCertificates) report.error(t.at("tlsCertificates"), t.at("tlsCertificates") + why);
      if (tls.credentialName() != null) report.error(t.at("credentialName"), t.at("credentialName") + why);
      if (credentialNames) report.error(t.at("credentialNames"), t.at("credentialNames") + why);
      return;
    }
    boolean anyCertificate = caCrl || tls.serverCertificate() != null || tls.privateKey() != null
        || tls.caCertificates() != null || tlsCertificates || tls.credentialName() != null || credentialNames;
    if (passthrough(mode) && anyCertificate) {
      report.warn(t.path(), modeSet
          ? t.at("mode") + " " + mode + " does not use certificates; Istio ignores them, so remove them"
          : t.at("mode") + " is not set, so Istio uses PASSTHROUGH and ignores the certificates given; set mode: "
              + "SIMPLE (or MUTUAL) to terminate TLS on this server");
    }
    int sources = (tls.serverCertificate() != null && tls.privateKey() != null ? 1 : 0)
        + (tls.credentialName() != null ? 1 : 0) + (credentialNames ? 1 : 0) + (tlsCertificates ? 1 : 0);
    if (sources > 1) {
      report.error(t.path(), t.path() + " names more than one certificate source; keep only one of credentialName, "
          + "credentialNames, serverCertificate/privateKey and tlsCertificates");
    }
    boolean terminates = mode.equals("SIMPLE") || mode.equals("MUTUAL") || mode.equals("OPTIONAL_MUTUAL");
    if (terminates && (tls.credentialName() != null || credentialNames)) return; // certificates come from a secret
    if (terminates) {
      if (!mode.equals("SIMPLE") && tls.caCertificates() == null) {
        report.error(t.at("caCertificates"), t.at("caCertificates") + " is missing; mode " + mode + " needs the CA "
            + "bundle that verifies client certificates, or a credentialName whose secret holds it");
      }
      if (!tlsCertificates) {
        if (tls.serverCertificate() == null && tls.privateKey() == null) {
          report.error(t.path(), "mode " + mode + " needs credentialName (a Kubernetes secret), or serverCertificate "
              + "and privateKey; add credentialName: my-secret");
        } else if (tls.serverCertificate() == null) {
          report.error(t.at("serverCertificate"), t.at("serverCertificate") + " is missing; mode " + mode + " with "
              + "privateKey needs the server certificate too (or use credentialName instead of both)");
        } else if (tls.privateKey() == null) {
          report.error(t.at("privateKey"), t.at("privateKey") + " is missing; mode " + mode + " with "
              + "serverCertificate needs the private key too (or use credentialName instead of both)");
        }
      }
    }
    if (caCrl) {
      if (tls.credentialName() != null) {
        report.error(t.at("caCrl"), t.at("caCrl") + " cannot be used with credentialName; put the CRL in the "
            + "credential's secret instead");
      }
      if (mode.equals("SIMPLE")) {
        report.error(t.at("caCrl"), t.at("caCrl") + " is not supported with mode SIMPLE (no client certificates are "
            + "checked); remove it or use mode MUTUAL");
      }
    }
  }

  /** Istio's bind rules: an IP address, or {@code unix://} with an absolute path (or {@code @name}) and port 0. */
  private static void checkBind(Fields s, Fields p, String bind, PortRead port) {
    if (bind == null) return;
    Report report = s.report();
    if (bind.startsWith(UNIX)) {
      String path = bind.substring(UNIX.length());
      if (path.isEmpty() || (!path.startsWith("@") && (!path.startsWith("/") || path.endsWith("/")))) {
        report.error(s.at("bind"), s.at("bind") + " \"" + bind + "\" must name an absolute socket path, e.g. "
            + "unix:///var/run/gateway.sock or unix://@name");
      }
      if (port != null && port.port().number() != 0) {
        report.error(p.at("number"), p.at("number") + " must be 0 (or left out) for a server bound to a unix "
            + "socket, got " + port.port().number());
      }
    } else if (!Checks.isIp(bind)) {
      report.error(s.at("bind"), s.at("bind") + " \"" + bind + "\" is not an IP address; bind a server to an IP "
          + "address or to unix:///path");
    }
  }

  private static boolean isHttp(String protocol) {
    return protocol != null && HTTP_PROTOCOLS.contains(protocol);
  }

  private static boolean passthrough(String mode) {
    return mode.equals("PASSTHROUGH") || mode.equals("AUTO_PASSTHROUGH");
  }

  /** Set in the protobuf sense: present and not empty. */
  private static boolean set(JsonNode v) {
    if (v == null) return false;
    if (v.isTextual()) return !v.textValue().isEmpty();
    if (v.isArray() || v.isObject()) return !v.isEmpty();
    return true;
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }
}
