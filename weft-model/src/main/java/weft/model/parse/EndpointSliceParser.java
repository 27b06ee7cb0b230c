package weft.model.parse;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import weft.model.EndpointSlice;

/** A {@code discovery.k8s.io/v1} EndpointSlice, reduced to addresses, ports and conditions. */
final class EndpointSliceParser {
  static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";
  private static final Set<String> ADDRESS_TYPES = Set.of("IPv4", "IPv6", "FQDN");

  private EndpointSliceParser() {}

  static EndpointSlice parse(Document d) {
    Fields root = d.root();
    String serviceName = d.labels().get(SERVICE_NAME_LABEL);
    if (serviceName == null || serviceName.isEmpty()) {
      d.report().error("metadata.labels", "EndpointSlice has no label " + SERVICE_NAME_LABEL
          + "; add it with the name of the Service this slice belongs to");
    }
    String addressType = root.string("addressType");
    if (addressType == null) {
      d.report().error("addressType", "addressType is missing; set it to IPv4, IPv6 or FQDN");
    } else if (!ADDRESS_TYPES.contains(addressType)) {
      d.report().error("addressType", "addressType must be IPv4, IPv6 or FQDN; got \"" + addressType + "\"");
    }
    List<EndpointSlice.Port> ports = new ArrayList<>();
    for (Fields p : root.objects("ports")) {
      EndpointSlice.Port port = port(p);
      if (port != null) ports.add(port);
    }
    List<EndpointSlice.Endpoint> endpoints = new ArrayList<>();
    for (Fields e : root.objects("endpoints")) {
      endpoints.add(endpoint(e, addressType));
    }
    return new EndpointSlice(d.id(), serviceName, addressType, ports, endpoints);
  }

  private static EndpointSlice.Port port(Fields p) {
    // An unnamed port may be written with name "" or without a name; both are kept as written.
    String name = p.string("name");
    String protocol = p.string("protocol", "TCP");
    if (!p.has("port")) {
      p.report().warn(p.at("port"), p.at("port") + " is not set, which in Kubernetes means \"all ports\"; Weft does "
          + "not implement that yet, so this port entry is ignored");
      return null;
    }
    Integer number = p.port("port");
    return new EndpointSlice.Port(name, number == null ? 0 : number, protocol);
  }

  private static EndpointSlice.Endpoint endpoint(Fields e, String addressType) {
    List<String> addresses = e.strings("addresses");
    if (addresses.isEmpty()) {
      e.report().error(e.at("addresses"), e.at("addresses") + " is empty; an endpoint needs at least one address");
    }
    if ("IPv4".equals(addressType) || "IPv6".equals(addressType)) {
      boolean v4 = "IPv4".equals(addressType);
      for (int i = 0; i < addresses.size(); i++) {
        String a = addresses.get(i);
        String where = e.at("addresses") + "[" + i + "]";
        // Kubernetes keeps each family in its own slices; a mixed slice is a broken producer.
        if (v4 ? Checks.isIpv4(a) : Checks.isIpv6(a)) continue;
        String other = v4 ? "IPv6" : "IPv4";
        String what = (v4 ? Checks.isIpv6(a) : Checks.isIpv4(a)) ? "an " + other + " address"
            : "not an IP address";
        e.report().error(where, where + " " + Checks.quote(a) + " is " + what + ", but addressType is " + addressType
            + "; put " + (what.startsWith("an") ? other + " addresses in a slice with addressType " + other
            : "only " + addressType + " addresses in this slice"));
      }
    }
    Fields conditions = e.object("conditions");
    Boolean ready = conditions.bool("ready");
    Boolean serving = conditions.bool("serving");
    Boolean terminating = conditions.bool("terminating");
    String nodeName = e.string("nodeName");
    String zone = e.string("zone");
    Fields targetRef = e.object("targetRef");
    String podName = null;
    if ("Pod".equals(targetRef.string("kind"))) podName = targetRef.string("name");
    String hostname = e.string("hostname");
    if (hostname != null && !Checks.isDnsLabel(hostname)) {
      // It becomes a DNS label of HOSTNAME.SERVICE.NS.svc.cluster.local; Kubernetes enforces the same rule.
      e.report().warn(e.at("hostname"), e.at("hostname") + " " + Checks.quote(hostname) + " is not a DNS-1123 "
          + "label; the endpoint is kept but gets no DNS name of its own");
      hostname = null;
    }
    return new EndpointSlice.Endpoint(addresses, ready, serving, terminating, nodeName, zone, podName, hostname);
  }
}
