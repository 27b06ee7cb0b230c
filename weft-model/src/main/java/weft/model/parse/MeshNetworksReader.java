package weft.model.parse;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import weft.model.MeshNetworks;

/** Istio's MeshNetworks: for each network, which endpoints belong to it and which gateways reach it. */
final class MeshNetworksReader {
  private MeshNetworksReader() {}

  static MeshNetworks read(Fields root) {
    Map<String, MeshNetworks.Network> networks = new LinkedHashMap<>();
    root.objectMap("networks").forEach((name, n) -> {
      if (!n.present()) {
        root.report().error(n.path(), "network " + name + " has no settings; add endpoints and gateways");
        return;
      }
      networks.put(name, network(n));
    });
    root.rejectUnknown("MeshNetworks");
    return new MeshNetworks(networks);
  }

  private static MeshNetworks.Network network(Fields n) {
    Report report = n.report();
    List<MeshNetworks.EndpointSource> endpoints = new ArrayList<>();
    for (Fields e : n.objects("endpoints")) {
      String cidr = e.string("fromCidr");
      String registry = e.string("fromRegistry");
      e.rejectUnknown("Network.NetworkEndpoints");
      if ((cidr == null) == (registry == null)) {
        report.error(e.path(), e.path() + " must set exactly one of fromCidr and fromRegistry");
      } else if (cidr != null) {
        String bad = Checks.ipOrCidr(cidr);
        if (bad != null) report.error(e.at("fromCidr"), bad);
      } else if (!Checks.isDnsLabel(registry)) {
        report.error(e.at("fromRegistry"), Checks.dnsLabel(registry, "registry (cluster id)")
            + "; use the cluster id");
      }
      endpoints.add(new MeshNetworks.EndpointSource(cidr, registry));
    }
    List<MeshNetworks.Gateway> gateways = new ArrayList<>();
    for (Fields g : n.objects("gateways")) {
      String address = g.string("address");
      String service = g.string("registryServiceName");
      if (!g.has("port")) report.error(g.at("port"), g.at("port") + " is missing; set the gateway port, e.g. 15443");
      Integer port = g.port("port");
      String locality = g.string("locality");
      g.rejectUnknown("Network.IstioNetworkGateway");
      if ((address == null) == (service == null)) {
        report.error(g.path(), g.path() + " must set exactly one of address and registryServiceName");
      } else if (address != null && !Checks.isIp(address) && Checks.fqdn(address) != null) {
        report.error(g.at("address"), "gateway address \"" + address + "\" is neither an IP address nor a host name");
      } else if (service != null && Checks.fqdn(service) != null) {
        report.error(g.at("registryServiceName"), Checks.fqdn(service) + "; use the gateway service's full name, "
            + "e.g. istio-eastwestgateway.istio-system.svc.cluster.local");
      }
      gateways.add(new MeshNetworks.Gateway(address, service, port == null ? 0 : port, locality));
    }
    n.rejectUnknown("Network");
    return new MeshNetworks.Network(endpoints, gateways);
  }
}
