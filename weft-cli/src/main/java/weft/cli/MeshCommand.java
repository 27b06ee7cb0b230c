package weft.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.net.http.HttpResponse;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code weft mesh}: this mesh as other meshes see it (its SPIFFE bundle) and the meshes it trusts. */
@Command(name = "mesh", mixinStandardHelpOptions = true, showDefaultValues = true, description = "Trust between meshes.",
    subcommands = {MeshCommand.Bundle.class, MeshCommand.Peers.class})
final class MeshCommand implements Callable<Integer> {
  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getOut());
    return 2;
  }

  @Command(name = "bundle", mixinStandardHelpOptions = true, showDefaultValues = true,
      description = "Print this mesh's SPIFFE trust bundle (the document its bundle endpoint serves).")
  static final class Bundle implements Callable<Integer> {
    @picocli.CommandLine.Mixin
    ControlPlaneAddress address;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      HttpResponse<String> response = address.get("/debug/spiffe_bundle");
      if (response.statusCode() == 404) {
        throw new CommandFailure(response.uri() + ": this control plane has no CA, so no bundle; start it with "
            + "--ca-dir");
      }
      // Read once more through the common checks (status, JSON): the bundle is small.
      JsonNode doc = address.getJson("/debug/spiffe_bundle");
      // The document as the bundle endpoint serves it.
      PrintWriter out = spec.commandLine().getOut();
      out.println(doc.toPrettyString());
      out.flush();
      return 0;
    }
  }

  @Command(name = "peers", mixinStandardHelpOptions = true, showDefaultValues = true,
      description = "List the federated trust domains: profile, bundle sequence and age, last error.")
  static final class Peers implements Callable<Integer> {
    @picocli.CommandLine.Mixin
    ControlPlaneAddress address;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      JsonNode federation = address.fetchStatus().path("federation");
      PrintWriter out = spec.commandLine().getOut();
      if (federation.isMissingNode()) {
        out.println("no federation: this control plane has no CA (--ca-dir)");
        out.flush();
        return 0;
      }
      out.printf("this mesh: trust domain %s, bundle sequence %s%s%n", text(federation.path("trustDomain")),
          federation.path("bundleSequence").asText(), federation.path("bundlePort").asInt(-1) < 0 ? ""
              : ", served on :" + federation.path("bundlePort").asText() + " ("
                  + text(federation.path("bundleProfile")) + ")");
      out.printf("%-24s %-13s %-9s %-8s %-6s %s%n", "TRUST DOMAIN", "PROFILE", "SEQUENCE", "AGE", "STALE",
          "LAST ERROR");
      for (JsonNode p : federation.path("peers")) {
        out.printf("%-24s %-13s %-9s %-8s %-6s %s%n", text(p.path("trustDomain")), text(p.path("profile")),
            p.path("sequence").isNull() ? "-" : p.path("sequence").asText(),
            p.path("ageSeconds").isNull() ? "-" : p.path("ageSeconds").asText() + "s",
            p.path("stale").asBoolean() ? "yes" : "no",
            p.path("lastError").isNull() ? "" : text(p.path("lastError")));
      }
      for (JsonNode refused : federation.path("refusedPeers")) {
        out.println("refused: " + text(refused));
      }
      out.flush();
      return 0;
    }

    /** What a peer or a file said reaches the terminal escaped. */
    private static String text(JsonNode n) {
      return weft.model.text.ClientText.forLog(n.asText());
    }
  }

  private static String text(JsonNode n) {
    return weft.model.text.ClientText.forLog(n.asText());
  }
}
