package weft.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

@Command(name = "status", mixinStandardHelpOptions = true, showDefaultValues = true,
    description = "Show the control plane's clusters and configuration problems.")
final class StatusCommand implements Callable<Integer> {
  @picocli.CommandLine.Mixin
  ControlPlaneAddress address;

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    JsonNode status = address.fetchStatus();
    PrintWriter out = spec.commandLine().getOut();
    out.printf("snapshot v%s, %s services, ready=%s%n", status.path("snapshotVersion").asText(),
        status.path("services").asText(), status.path("ready").asText());
    JsonNode leader = status.path("leader");
    if (leader.has("identity")) {
      // The holder is read from a Lease that anyone allowed to write it may have set: shown escaped.
      String holder = leader.path("holder").isTextual()
          ? weft.model.text.ClientText.forLog(leader.path("holder").asText()) : "nobody";
      String since = leader.path("holderSince").isTextual() ? " since " + leader.path("holderSince").asText() : "";
      String lease = leader.path("lease").isTextual() ? "lease " + leader.path("lease").asText() : "the only instance";
      out.printf("leader: %s%s (%s); this instance %s %s%n", holder, since, lease,
          weft.model.text.ClientText.forLog(leader.path("identity").asText()),
          leader.path("leader").asBoolean() ? "leads" : "does not lead");
    }
    out.printf("%-16s %-12s %-8s %-10s %s%n", "CLUSTER", "NETWORK", "SYNCED", "SERVICES", "ENDPOINTS");
    for (JsonNode c : status.path("clusters")) {
      out.printf("%-16s %-12s %-8s %-10s %s%n", c.path("clusterId").asText(), c.path("network").asText(),
          c.path("synced").asText(), c.path("services").asText(), c.path("endpoints").asText());
    }
    JsonNode problems = status.path("configProblems");
    out.println(problems.size() == 0 ? "no configuration problems" : problems.size() + " configuration problem(s):");
    for (JsonNode p : problems) {
      out.printf("  %s %s: %s%s: %s%n", p.path("severity").asText(), p.path("file").asText(),
          p.path("resource").isNull() ? "" : p.path("resource").asText() + " ",
          p.path("field").isNull() ? "" : "field " + p.path("field").asText(), p.path("message").asText());
    }
    out.flush();
    return 0;
  }
}
