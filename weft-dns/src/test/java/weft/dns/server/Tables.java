package weft.dns.server;

import java.util.List;
import weft.dns.nds.NameTable;

/** Name tables for tests, built the way the control plane fills them. */
final class Tables {
  private Tables() {}

  static NameTable.NameInfo service(String name, String namespace, List<String> ips, NameTable.Port... ports) {
    return NameTable.NameInfo.newBuilder().addAllIps(ips).setRegistry("Kubernetes").setShortname(name)
        .setNamespace(namespace).addAllWeftPorts(List.of(ports)).build();
  }

  static NameTable.NameInfo external(List<String> ips) {
    return NameTable.NameInfo.newBuilder().addAllIps(ips).setRegistry("External").build();
  }

  static NameTable.Port port(String name, int number, String protocol) {
    return NameTable.Port.newBuilder().setName(name).setNumber(number).setProtocol(protocol).build();
  }

  /** echo in default (v4 + v6, grpc port), db in data, an external host and an upstream-only test name. */
  static NameTable mesh() {
    return NameTable.newBuilder()
        .putTable("echo.default.svc.cluster.local", service("echo", "default", List.of("10.96.0.10", "fd00::10"),
            port("grpc", 7070, "GRPC"), port("dns", 53, "UDP")))
        .putTable("db.data.svc.cluster.local", service("db", "data", List.of("10.96.0.20")))
        .putTable("api.example.com", external(List.of("240.240.1.2")))
        .build();
  }
}
