package weft.model.parse;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import weft.model.ServiceEntry;
import weft.model.WorkloadEntry;

/** A {@code networking.istio.io} ServiceEntry, checked as Istio's validation checks it. */
final class ServiceEntryParser {
  private static final List<String> LOCATIONS = List.of("MESH_EXTERNAL", "MESH_INTERNAL");
  private static final List<String> RESOLUTIONS = List.of("NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN", "DYNAMIC_DNS");

  private ServiceEntryParser() {}

  static ServiceEntry parse(Document d) {
    Fields spec = d.root().object("spec");
    Report report = d.report();
    List<String> hosts = hosts(spec);
    List<String> addresses = spec.strings("addresses");
    List<ServiceEntry.Port> ports = ports(spec);
    String location = spec.enumOf("location", LOCATIONS, "MESH_EXTERNAL");
    String resolution = spec.enumOf("resolution", RESOLUTIONS, "NONE");
    if ("DYNAMIC_DNS".equals(resolution)) {
      report.warn(spec.at("resolution"), spec.at("resolution") + " DYNAMIC_DNS is not implemented by Weft yet; the "
          + "entry is kept but Weft's proxies may not reach its hosts");
    }
    boolean dns = "DNS".equals(resolution) || "DNS_ROUND_ROBIN".equals(resolution);
    Set<String> portNames = new HashSet<>();
    ports.forEach(p -> portNames.add(p.name()));
    List<WorkloadEntry.Spec> endpoints = new ArrayList<>();
    for (Fields e : spec.objects("endpoints")) {
      endpoints.add(WorkloadEntryParser.spec(e, !"STATIC".equals(resolution), portNames));
    }
    Map<String, String> selector = Selectors.labels(spec);
    List<String> exportTo = spec.strings("exportTo");
    Checks.exportTo(report, spec.at("exportTo"), exportTo, d.namespace(), true, false);
    List<String> subjectAltNames = spec.strings("subjectAltNames");
    spec.rejectUnknown("ServiceEntry");

    checkAddresses(spec, addresses, resolution);
    if (selector != null && !endpoints.isEmpty()) {
      report.error(spec.at("workloadSelector"), "a ServiceEntry may set workloadSelector or endpoints, not both; "
          + "keep one of them");
    }
    if ("NONE".equals(resolution)) {
      if (!endpoints.isEmpty()) {
        report.error(spec.at("endpoints"), "endpoints are not allowed with resolution NONE; set resolution STATIC "
            + "or DNS, or remove the endpoints");
      }
      if (selector != null) {
        report.warn(spec.at("workloadSelector"), "with resolution NONE connections go to the address the client "
            + "dialled, so the workloads workloadSelector picks are not used to route; set resolution STATIC to route "
            + "to them");
      }
    }
    if (dns) checkDns(spec, hosts, endpoints, selector, resolution);
    if (resolution != null && !"NONE".equals(resolution) && hosts.size() > 1) {
      for (ServiceEntry.Port p : ports) {
        String proto = p.protocol() == null ? "" : p.protocol();
        if (!Set.of("HTTP", "HTTP2", "HTTP_PROXY", "GRPC", "GRPC-Web", "HTTPS", "TLS").contains(proto)) {
          report.error(spec.at("hosts"), "a ServiceEntry with several hosts and resolution " + resolution
              + " can only have HTTP or TLS ports (port " + p.number() + " is " + (proto.isEmpty() ? "unset" : proto)
              + "); split it into one ServiceEntry per host or use resolution NONE");
          break;
        }
      }
    }
    String created = d.root().object("metadata").string("creationTimestamp");
    List<ServiceEntry.StatusAddress> status = statusAddresses(d, hosts);
    return new ServiceEntry(d.id(), hosts, addresses, ports, location == null ? "MESH_EXTERNAL" : location,
        resolution == null ? "NONE" : resolution, endpoints, selector, exportTo, subjectAltNames, d.labels(),
        created == null ? "" : created, status);
  }

  /** Istio's key under {@code status}: addresses a control plane allocated and persisted. */
  private static final String STATUS_ADDRESSES = "addresses";

  /**
   * {@code status.addresses}, read leniently: status is written by control planes, not by the user,
   * so a malformed item is skipped with a warning and never rejects the entry. Only items naming one
   * of the entry's hosts and a plain IP address are kept.
   */
  private static List<ServiceEntry.StatusAddress> statusAddresses(Document d, List<String> hosts) {
    com.fasterxml.jackson.databind.JsonNode status = d.root().take("status");
    List<ServiceEntry.StatusAddress> out = new ArrayList<>();
    if (status == null || !status.isObject()) return out;
    com.fasterxml.jackson.databind.JsonNode list = status.get(STATUS_ADDRESSES);
    if (list == null || list.isNull()) return out;
    if (!list.isArray()) {
      d.report().warn("status.addresses", "status.addresses is not a list; ignored (it is rewritten by the leader)");
      return out;
    }
    for (int i = 0; i < list.size(); i++) {
      com.fasterxml.jackson.databind.JsonNode item = list.get(i);
      String where = "status.addresses[" + i + "]";
      com.fasterxml.jackson.databind.JsonNode host = item.get("host");
      com.fasterxml.jackson.databind.JsonNode value = item.get("value");
      if (host == null || value == null || !host.isTextual() || !value.isTextual()
          || Checks.ip(value.textValue()) != null || !hosts.contains(host.textValue())) {
        d.report().warn(where, where + " is not {host: one of spec.hosts, value: an IP address}; ignored (it is "
            + "rewritten by the leader)");
        continue;
      }
      out.add(new ServiceEntry.StatusAddress(host.textValue(), value.textValue()));
    }
    return out;
  }

  private static List<String> hosts(Fields spec) {
    List<String> hosts = spec.strings("hosts");
    Report report = spec.report();
    if (hosts.isEmpty()) {
      report.error(spec.at("hosts"), spec.at("hosts") + " is empty; a ServiceEntry needs at least one host");
    }
    for (int i = 0; i < hosts.size(); i++) {
      String where = spec.at("hosts") + "[" + i + "]";
      String h = hosts.get(i);
      if (h.equals("*")) {
        report.error(where, "host \"*\" is not allowed in a ServiceEntry; name the hosts, e.g. *.example.com");
        continue;
      }
      String bad = Checks.wildcardDomain(h);
      if (bad != null) report.error(where, bad);
    }
    return hosts;
  }

  private static List<ServiceEntry.Port> ports(Fields spec) {
    List<ServiceEntry.Port> ports = new ArrayList<>();
    Set<String> names = new LinkedHashSet<>();
    Set<Integer> numbers = new HashSet<>();
    for (Fields p : spec.objects("ports")) {
      Report report = p.report();
      if (!p.has("number")) report.error(p.at("number"), p.at("number") + " is missing; set the port number");
      Integer number = p.port("number");
      String protocol = p.string("protocol");
      String name = p.string("name");
      Integer targetPort = p.has("targetPort") ? p.port("targetPort") : null;
      p.rejectUnknown("ServicePort");
      if (name == null || name.isEmpty()) {
        report.error(p.at("name"), p.at("name") + " is missing; every ServiceEntry port needs a name, e.g. http");
      } else {
        String bad = Checks.istioLabel(name, "port name");
        if (bad != null) report.error(p.at("name"), bad + "; rename the port");
        if (!names.add(name)) report.error(p.at("name"), "port name " + name + " is used twice; names must be unique");
      }
      if (number != null && !numbers.add(number)) {
        report.error(p.at("number"), "port " + number + " is listed twice; each port number may appear once");
      }
      if (protocol != null && !protocol.isEmpty()) {
        String canonical = Checks.protocol(protocol);
        if (canonical == null) {
          report.error(p.at("protocol"), "unknown protocol \"" + protocol + "\"; use one of HTTP, HTTPS, HTTP2, GRPC, "
              + "GRPC-Web, TCP, TLS, UDP, Mongo, Redis, MySQL, HTTP_PROXY");
        }
        protocol = canonical == null ? protocol : canonical; // Istio ignores case: "http" is HTTP
      }
      ports.add(new ServiceEntry.Port(number == null ? 0 : number, protocol, name, targetPort == null ? 0 : targetPort));
    }
    return ports;
  }

  private static void checkAddresses(Fields spec, List<String> addresses, String resolution) {
    boolean cidr = false;
    for (int i = 0; i < addresses.size(); i++) {
      String bad = Checks.ipOrCidr(addresses.get(i));
      if (bad != null) spec.report().error(spec.at("addresses") + "[" + i + "]", bad);
      cidr |= addresses.get(i).contains("/");
    }
    if (cidr && resolution != null && !"NONE".equals(resolution) && !"STATIC".equals(resolution)) {
      spec.report().error(spec.at("addresses"), "CIDR addresses are only allowed with resolution NONE or STATIC; "
          + "use single IP addresses or change the resolution");
    }
  }

  private static void checkDns(Fields spec, List<String> hosts, List<WorkloadEntry.Spec> endpoints,
      Map<String, String> selector, String resolution) {
    Report report = spec.report();
    if (endpoints.isEmpty()) {
      for (int i = 0; i < hosts.size(); i++) {
        if (!hosts.get(i).equals("*") && Checks.fqdn(hosts.get(i)) != null && Checks.wildcardDomain(hosts.get(i)) == null) {
          report.error(spec.at("hosts") + "[" + i + "]", "with resolution " + resolution + " and no endpoints, hosts "
              + "are resolved by DNS and cannot be wildcards; name a concrete host or add endpoints");
        }
      }
    }
    if ("DNS_ROUND_ROBIN".equals(resolution) && endpoints.size() > 1) {
      report.error(spec.at("endpoints"), "resolution DNS_ROUND_ROBIN allows at most one endpoint; use resolution DNS "
          + "for several");
    }
  }
}
