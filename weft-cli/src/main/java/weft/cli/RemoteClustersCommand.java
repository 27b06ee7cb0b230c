package weft.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "remote-clusters", mixinStandardHelpOptions = true, showDefaultValues = true,
    description = {"List the clusters a control plane discovers, with sync state, last sync time and endpoints.",
        "ROLE says which is the config cluster (its API server holds the mesh config and the remote secrets): "
            + "config+workloads, or config alone for an external control plane's config cluster that runs no "
            + "workloads (one that does has a remote secret of its own)."})
final class RemoteClustersCommand implements Callable<Integer> {
  @picocli.CommandLine.Mixin
  ControlPlaneAddress address;

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    JsonNode status = address.fetchStatus();
    PrintWriter out = spec.commandLine().getOut();
    JsonNode config = status.path("configCluster");
    String configId = config.path("clusterId").asText(null);
    if (configId != null) {
      String server = config.path("server").isTextual() ? " at " + config.path("server").asText() : "";
      out.println("config cluster: " + configId + server + (config.path("mode").asText().equals("external")
          ? " (external control plane: no local cluster; workloads come from remote secrets)" : ""));
    }
    out.printf("%-16s %-16s %-12s %-8s %-24s %-10s %-9s %s%n", "CLUSTER", "ROLE", "NETWORK", "STATE", "LAST SYNC",
        "SERVICES", "ENDPOINTS", "DETAIL");
    for (JsonNode c : status.path("clusters")) {
      String reason = c.path("staleReason").isTextual() ? c.path("staleReason").asText() : "";
      String state = !reason.isEmpty() ? "STALE" : c.path("synced").asBoolean() ? "synced" : "syncing";
      long last = c.path("lastSyncMillis").asLong();
      String id = c.path("clusterId").asText();
      String role = !id.equals(configId) ? "workloads"
          : config.path("workloads").asBoolean(true) ? "config+workloads" : "config";
      out.printf("%-16s %-16s %-12s %-8s %-24s %-10s %-9s %s%n", id, role, c.path("network").asText(), state,
          last == 0 ? "-" : Instant.ofEpochMilli(last).toString(), c.path("services").asText(),
          c.path("endpoints").asText(), reason);
    }
    out.flush();
    return 0;
  }
}
