package weft.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "proxy-status", mixinStandardHelpOptions = true, showDefaultValues = true,
    description = "List connected proxies: what each was sent, whether it ACKed, and what was hidden from it.")
final class ProxyStatusCommand implements Callable<Integer> {
  @picocli.CommandLine.Mixin
  ControlPlaneAddress address;

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    JsonNode status = address.fetchStatus();
    PrintWriter out = spec.commandLine().getOut();
    out.printf("%-60s %-10s %-8s %-8s %-8s %-8s%n", "PROXY", "CLUSTER", "CDS", "LDS", "EDS", "RDS");
    for (JsonNode p : status.path("proxies")) {
      JsonNode xds = p.path("xds");
      out.printf("%-60s %-10s %-8s %-8s %-8s %-8s%n", p.path("id").asText(), p.path("clusterId").asText(),
          state(xds.path("CDS")), state(xds.path("LDS")), state(xds.path("EDS")), state(xds.path("RDS")));
      for (Iterator<Map.Entry<String, JsonNode>> it = p.path("dropped").fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        out.printf("    hidden %s: %s%n", e.getKey(), e.getValue().asText());
      }
    }
    out.flush();
    return 0;
  }

  private static String state(JsonNode type) {
    if (type.isMissingNode()) return "-";
    if (type.has("lastNack")) return "NACKED";
    return type.path("acked").asBoolean() ? "SYNCED" : "STALE";
  }
}
