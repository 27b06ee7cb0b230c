package weft.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "status", mixinStandardHelpOptions = true,
    description = "Show the control plane's clusters and configuration problems.")
final class StatusCommand implements Callable<Integer> {
  @picocli.CommandLine.Mixin
  ControlPlaneAddress address;

  @Override
  public Integer call() throws Exception {
    JsonNode status = address.fetchStatus();
    System.out.printf("snapshot v%s, %s services, ready=%s%n", status.path("snapshotVersion").asText(),
        status.path("services").asText(), status.path("ready").asText());
    System.out.printf("%-16s %-12s %-8s %-10s %s%n", "CLUSTER", "NETWORK", "SYNCED", "SERVICES", "ENDPOINTS");
    for (JsonNode c : status.path("clusters")) {
      System.out.printf("%-16s %-12s %-8s %-10s %s%n", c.path("clusterId").asText(), c.path("network").asText(),
          c.path("synced").asText(), c.path("services").asText(), c.path("endpoints").asText());
    }
    JsonNode problems = status.path("configProblems");
    System.out.println(problems.size() == 0 ? "no configuration problems" : problems.size() + " configuration problem(s):");
    for (JsonNode p : problems) {
      System.out.printf("  %s %s: %s%s: %s%n", p.path("severity").asText(), p.path("file").asText(),
          p.path("resource").isNull() ? "" : p.path("resource").asText() + " ",
          p.path("field").isNull() ? "" : "field " + p.path("field").asText(), p.path("message").asText());
    }
    return 0;
  }
}
