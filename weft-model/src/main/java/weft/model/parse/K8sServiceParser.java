package weft.model.parse;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import weft.model.K8sService;

/**
 * A Kubernetes v1 Service. Only the fields Weft needs are read; other fields are left alone, since
 * the Kubernetes schema is large and not Weft's to police.
 */
final class K8sServiceParser {
  private static final Set<String> TYPES = Set.of("ClusterIP", "NodePort", "LoadBalancer", "ExternalName");
  private static final Set<String> PROTOCOLS = Set.of("TCP", "UDP", "SCTP");

  private K8sServiceParser() {}

  static K8sService parse(Document d) {
    Fields spec = d.root().object("spec");
    Map<String, String> selector = spec.stringMap("selector");
    Checks.labels(d.report(), spec.at("selector"), selector);
    String clusterIp = spec.string("clusterIP");
    if ("None".equals(clusterIp) || "".equals(clusterIp)) clusterIp = null;
    if (clusterIp != null && !Checks.isIp(clusterIp)) {
      d.report().error(spec.at("clusterIP"), spec.at("clusterIP") + " \"" + clusterIp + "\" is not an IP address; "
          + "use an IP, \"None\" for a headless service, or leave it out");
    }
    String type = spec.string("type", "ClusterIP");
    if (!TYPES.contains(type)) {
      d.report().error(spec.at("type"), spec.at("type") + " must be one of ClusterIP, NodePort, LoadBalancer or "
          + "ExternalName; got \"" + type + "\"");
    }
    List<K8sService.Port> ports = new ArrayList<>();
    for (Fields p : spec.objects("ports")) {
      ports.add(port(p));
    }
    // Where the service is reachable from outside its cluster: what an east-west gateway's peers dial.
    List<String> external = new ArrayList<>(spec.strings("externalIPs"));
    for (Fields ingress : d.root().object("status").object("loadBalancer").objects("ingress")) {
      String ip = ingress.string("ip");
      String host = ingress.string("hostname");
      if (ip != null && !ip.isEmpty()) external.add(ip); else if (host != null && !host.isEmpty()) external.add(host);
    }
    return new K8sService(d.id(), d.labels(), d.annotations(), selector, clusterIp, type, ports, external);
  }

  private static K8sService.Port port(Fields p) {
    String name = p.string("name");
    Integer number = p.port("port");
    if (!p.has("port")) {
      p.report().error(p.at("port"), p.at("port") + " is missing; every service port needs a port number");
    }
    String protocol = p.string("protocol", "TCP");
    if (!PROTOCOLS.contains(protocol)) {
      p.report().error(p.at("protocol"), p.at("protocol") + " must be TCP, UDP or SCTP; got \"" + protocol + "\"");
    }
    String appProtocol = p.string("appProtocol");
    return new K8sService.Port(name, number == null ? 0 : number, protocol, appProtocol, targetPort(p));
  }

  /** targetPort is a Kubernetes IntOrString: a port number, or the name of a container port. */
  private static String targetPort(Fields p) {
    JsonNode v = p.take("targetPort");
    if (v == null) return null;
    String where = p.at("targetPort");
    if (v.isTextual() && !v.textValue().isEmpty() && !v.textValue().chars().allMatch(Character::isDigit)) {
      return v.textValue();
    }
    Long n = v.isTextual() && v.textValue().isEmpty() ? null : p.toLong(v, where);
    if (n == null || n < 1 || n > 65535) {
      p.report().error(where, where + " must be a port number from 1 to 65535 or a container port name; got "
          + Fields.describe(v));
      return null;
    }
    return String.valueOf(n);
  }
}
