package weft.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "remote-clusters", mixinStandardHelpOptions = true, showDefaultValues = true,
    description = "List the clusters a control plane discovers, with sync state, last sync time and endpoints.")
final class RemoteClustersCommand implements Callable<Integer> {
  @picocli.CommandLine.Mixin
  ControlPlaneAddress address;

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    JsonNode status = address.fetchStatus();
    PrintWriter out = spec.commandLine().getOut();
    out.printf("%-16s %-12s %-8s %-24s %-10s %-9s %s%n", "CLUSTER", "NETWORK", "STATE", "LAST SYNC",
        "SERVICES", "ENDPOINTS", "DETAIL");
    for (JsonNode c : status.path("clusters")) {
      String reason = c.path("staleReason").isTextual() ? c.path("staleReason").asText() : "";
      String state = !reason.isEmpty() ? "STALE" : c.path("synced").asBoolean() ? "synced" : "syncing";
      long last = c.path("lastSyncMillis").asLong();
      out.printf("%-16s %-12s %-8s %-24s %-10s %-9s %s%n", c.path("clusterId").asText(),
          c.path("network").asText(), state, last == 0 ? "-" : Instant.ofEpochMilli(last).toString(),
          c.path("services").asText(), c.path("endpoints").asText(), reason);
    }
    out.flush();
    return 0;
  }
}
