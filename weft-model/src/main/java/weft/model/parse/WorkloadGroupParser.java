package weft.model.parse;

import java.util.LinkedHashMap;
import java.util.Map;
import weft.model.WorkloadEntry;
import weft.model.WorkloadGroup;

/**
 * A {@code networking.istio.io} WorkloadGroup (networking/v1/workload_group.proto): the metadata and
 * template of the WorkloadEntries auto-registration creates, and a readiness probe, which is
 * checked and accepted (Weft does not run health checks; an entry is healthy while its agent is
 * connected).
 */
final class WorkloadGroupParser {
  private WorkloadGroupParser() {}

  static WorkloadGroup parse(Document d) {
    Fields spec = d.root().object("spec");
    Report report = d.report();
    Fields metadata = spec.object("metadata");
    Map<String, String> labels = metadata.stringMap("labels");
    Checks.labels(report, metadata.at("labels"), labels);
    Map<String, String> annotations = metadata.stringMap("annotations");
    metadata.rejectUnknown("WorkloadGroup.ObjectMeta");
    Fields template = spec.object("template");
    if (!template.present()) {
      report.error(spec.at("template"), spec.at("template") + " is missing; give the template of the entries the "
          + "group registers (at least serviceAccount)");
    }
    WorkloadEntry.Spec entry = template(template);
    Fields probe = spec.object("probe");
    if (probe.present()) probe(probe);
    spec.rejectUnknown("WorkloadGroup");
    return new WorkloadGroup(d.id(), labels, annotations, entry, probe.present());
  }

  /** A WorkloadEntry without address: each registered workload brings its own. */
  private static WorkloadEntry.Spec template(Fields f) {
    Report report = f.report();
    String address = f.string("address");
    if (address != null && !address.isEmpty()) {
      report.error(f.at("address"), f.at("address") + " must not be set in a WorkloadGroup template: each "
          + "registered workload's own address is used; remove it");
    }
    Map<String, Integer> ports = new LinkedHashMap<>();
    f.integerMap("ports", 1, 65535, "use a port number from 1 to 65535").forEach((name, port) -> {
      String bad = Checks.istioLabel(name, "port name");
      if (bad != null) report.error(f.at("ports") + "." + name, bad + "; rename the port");
      ports.put(name, Math.toIntExact(port));
    });
    Map<String, String> labels = f.stringMap("labels");
    Checks.labels(report, f.at("labels"), labels);
    String network = f.string("network");
    String locality = f.string("locality");
    Integer weight = f.int32("weight", 0, Integer.MAX_VALUE, "use a positive weight, or leave it out");
    String serviceAccount = f.string("serviceAccount");
    if (serviceAccount != null && !serviceAccount.isEmpty() && !Checks.isDnsSubdomain(serviceAccount)) {
      report.error(f.at("serviceAccount"), f.at("serviceAccount") + " " + Checks.quote(serviceAccount) + " is not a "
          + "service account name (a DNS-1123 subdomain)");
    }
    f.rejectUnknown("WorkloadEntry");
    return new WorkloadEntry.Spec(null, ports, labels, network, locality, weight == null ? 0 : weight,
        serviceAccount == null || serviceAccount.isEmpty() ? null : serviceAccount);
  }

  /** Istio's ReadinessProbe: timings and exactly one of httpGet, tcpSocket, exec and grpc. */
  private static void probe(Fields p) {
    Report report = p.report();
    for (String timing : new String[] {"initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold",
        "failureThreshold"}) {
      p.nonNegative(timing);
    }
    int handlers = 0;
    Fields http = p.object("httpGet");
    if (http.present()) {
      handlers++;
      http.string("path");
      http.port("port");
      http.string("host");
      http.string("scheme");
      for (Fields h : http.objects("httpHeaders")) {
        h.string("name");
        h.string("value");
        h.rejectUnknown("HTTPHeader");
      }
      http.rejectUnknown("HTTPHealthCheckConfig");
    }
    Fields tcp = p.object("tcpSocket");
    if (tcp.present()) {
      handlers++;
      tcp.string("host");
      tcp.port("port");
      tcp.rejectUnknown("TCPHealthCheckConfig");
    }
    Fields exec = p.object("exec");
    if (exec.present()) {
      handlers++;
      exec.strings("command");
      exec.rejectUnknown("ExecHealthCheckConfig");
    }
    Fields grpc = p.object("grpc");
    if (grpc.present()) {
      handlers++;
      grpc.port("port");
      grpc.string("service");
      grpc.rejectUnknown("GrpcHealthCheckConfig");
    }
    p.rejectUnknown("ReadinessProbe");
    if (handlers != 1) {
      report.error(p.path(), p.path() + " must set exactly one of httpGet, tcpSocket, exec and grpc; it sets "
          + handlers);
    } else {
      report.warn(p.path(), p.path() + " is accepted but not run: Weft does not health-check registered workloads; "
          + "an entry stays while its agent is connected");
    }
  }
}
