package weft.model.parse;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import weft.model.ServiceExport;
import weft.model.ServiceImport;

/**
 * Kubernetes Multi-Cluster Services ({@code multicluster.x-k8s.io/v1alpha1}, KEP-1645): ServiceExport
 * and ServiceImport. Both are checked field by field like Istio kinds: their schema is small and an
 * MCS controller, not a person, usually writes them, so anything unexpected is refused rather than
 * guessed at. A refused ServiceImport leaves its host without a clusterset VIP from it (Weft then
 * allocates one); a refused ServiceExport exports nothing.
 */
final class McsParser {
  private static final Set<String> PROTOCOLS = Set.of("TCP", "UDP", "SCTP");
  private static final List<String> TYPES = List.of(ServiceImport.CLUSTER_SET_IP, ServiceImport.HEADLESS);

  private McsParser() {}

  static ServiceExport serviceExport(Document d) {
    // v1alpha1 has no spec; an empty one is what kubectl and controllers may still send.
    Fields spec = d.root().object("spec");
    spec.rejectUnknown("ServiceExport.spec (it has no fields)");
    return new ServiceExport(d.id(), creationTimestamp(d));
  }

  static ServiceImport serviceImport(Document d) {
    Fields root = d.root();
    if (!root.has("spec")) {
      d.report().error("spec", "a ServiceImport needs a spec with its type and ports; add spec.type and spec.ports");
    }
    Fields spec = root.object("spec");
    String type = spec.enumOf("type", TYPES, ServiceImport.CLUSTER_SET_IP);
    List<String> ips = spec.strings("ips");
    int v4 = 0;
    int v6 = 0;
    for (int i = 0; i < ips.size(); i++) {
      String ip = ips.get(i);
      String where = spec.at("ips") + "[" + i + "]";
      if (Checks.isIpv4(ip)) {
        v4++;
      } else if (Checks.isIpv6(ip)) {
        v6++;
      } else {
        d.report().error(where, where + " " + Checks.quote(ip) + " is not an IP address; write the clusterset VIP "
            + "as an IPv4 or IPv6 address");
      }
    }
    if (v4 > 1 || v6 > 1) {
      d.report().error(spec.at("ips"), spec.at("ips") + " has more than one address of one family; a clusterset "
          + "service has at most one IPv4 and one IPv6 VIP");
    }
    if (ServiceImport.HEADLESS.equals(type) && !ips.isEmpty()) {
      d.report().error(spec.at("ips"), spec.at("ips") + " must be empty for a Headless ServiceImport; remove the "
          + "addresses or use type ClusterSetIP");
    }
    List<ServiceImport.Port> ports = new ArrayList<>();
    Set<String> names = new java.util.HashSet<>();
    for (Fields p : spec.objects("ports")) {
      String name = p.string("name", "");
      if (!name.isEmpty() && !Checks.isDnsLabel(name)) {
        p.report().error(p.at("name"), p.at("name") + " " + Checks.quote(name) + " is not a valid port name: a "
            + "DNS-1123 label (lower-case letters, digits and '-'); rename the port");
      }
      if (!names.add(name)) {
        p.report().error(p.at("name"), p.at("name") + " " + Checks.quote(name) + " is used by another port; port "
            + "names of a service must differ");
      }
      if (!p.has("port")) {
        p.report().error(p.at("port"), p.at("port") + " is missing; every port needs a number from 1 to 65535");
      }
      Integer number = p.port("port");
      String protocol = p.string("protocol", "TCP");
      if (!PROTOCOLS.contains(protocol)) {
        p.report().error(p.at("protocol"), p.at("protocol") + " must be TCP, UDP or SCTP; got "
            + Checks.quote(protocol));
      }
      String appProtocol = p.string("appProtocol", "");
      p.rejectUnknown("ServiceImport port");
      ports.add(new ServiceImport.Port(name, number == null ? 0 : number, protocol, appProtocol));
    }
    // Written by Kubernetes or an MCS controller and not read by Weft: accepted as they are.
    spec.ignore("sessionAffinity", "sessionAffinityConfig");
    spec.rejectUnknown("ServiceImport.spec");
    return new ServiceImport(d.id(), type, ips, ports);
  }

  private static String creationTimestamp(Document d) {
    String created = d.root().object("metadata").string("creationTimestamp");
    return created == null ? "" : created;
  }
}
