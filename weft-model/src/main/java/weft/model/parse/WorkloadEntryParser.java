package weft.model.parse;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import weft.model.WorkloadEntry;

/**
 * A WorkloadEntry, and the same message used as a ServiceEntry's inline endpoint. Istio checks an
 * inline endpoint a little differently (its address kind depends on the entry's resolution, and its
 * port names must be ports of the entry), so the caller says which rules apply.
 */
final class WorkloadEntryParser {
  private static final String UNIX = "unix://";

  private WorkloadEntryParser() {}

  static WorkloadEntry parse(Document d) {
    Fields spec = d.root().object("spec");
    return new WorkloadEntry(d.id(), spec(spec, true, null));
  }

  /**
   * Reads one WorkloadEntry message. {@code allowHostname}: the address may be a DNS name (not for
   * STATIC endpoints). {@code servicePorts}: the port names an endpoint may use, or null for a
   * standalone WorkloadEntry.
   */
  static WorkloadEntry.Spec spec(Fields f, boolean allowHostname, Set<String> servicePorts) {
    Report report = f.report();
    String address = f.string("address");
    Map<String, Long> rawPorts = f.integerMap("ports", 1, 65535, "use a port number from 1 to 65535");
    Map<String, Integer> ports = new LinkedHashMap<>();
    rawPorts.forEach((name, port) -> {
      String where = f.at("ports") + "." + name;
      String bad = Checks.istioLabel(name, "port name");
      if (bad != null) report.error(where, bad + "; rename the port");
      if (servicePorts != null && !servicePorts.contains(name)) {
        report.error(where, "endpoint port " + name + " is not a port of this ServiceEntry; use one of the names "
            + "under spec.ports " + servicePorts);
      }
      ports.put(name, Math.toIntExact(port));
    });
    Map<String, String> labels = f.stringMap("labels");
    Checks.labels(report, f.at("labels"), labels);
    String network = f.string("network");
    String locality = f.string("locality");
    Integer weight = f.int32("weight", 0, Integer.MAX_VALUE, "use a positive weight, or leave it out");
    String serviceAccount = f.string("serviceAccount");
    f.rejectUnknown("WorkloadEntry");
    checkAddress(f, address, network, allowHostname, ports.isEmpty(), servicePorts);
    return new WorkloadEntry.Spec(address == null || address.isEmpty() ? null : address, ports, labels, network,
        locality, weight == null ? 0 : weight, serviceAccount);
  }

  private static void checkAddress(Fields f, String address, String network, boolean allowHostname,
      boolean noPorts, Set<String> servicePorts) {
    Report report = f.report();
    String where = f.at("address");
    if (address == null || address.isEmpty()) {
      if (network == null || network.isEmpty()) {
        report.error(where, where + " is missing; set the workload's IP address (or host name)");
      } else {
        report.warn(where, where + " is not set; the workload is reached through the gateway of network " + network);
      }
      return;
    }
    if (address.startsWith(UNIX)) {
      String path = address.substring(UNIX.length());
      if (!path.startsWith("@") && (!path.startsWith("/") || path.endsWith("/"))) {
        report.error(where, where + " \"" + address + "\" must name an absolute socket path, e.g. unix:///var/run/app.sock");
      }
      if (!noPorts) report.error(f.at("ports"), "a unix socket endpoint must not list ports; remove ports");
      if (servicePorts != null && servicePorts.size() != 1) {
        // Istio's rule: a socket has no port, so the entry's one port is the only one it can serve.
        report.error(where, where + " is a unix socket, which needs exactly one port in the ServiceEntry (it has "
            + servicePorts.size() + "); split the entry or keep one port");
      }
      return;
    }
    if (Checks.isIp(address)) return;
    if (!allowHostname) {
      report.error(where, where + " \"" + address + "\" is not an IP address; STATIC resolution needs IP addresses "
          + "(use resolution DNS for host names)");
      return;
    }
    String bad = Checks.fqdn(address);
    if (bad != null) report.error(where, where + ": " + bad + "; use an IP address or a DNS name");
  }
}
