package weft.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.net.http.HttpResponse;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code weft mesh}: this mesh as other meshes see it (its SPIFFE bundle) and the meshes it trusts. */
@Command(name = "mesh", mixinStandardHelpOptions = true, showDefaultValues = true, description = "Trust between meshes.",
    subcommands = {MeshCommand.Bundle.class, MeshCommand.Peers.class, MeshCommand.Export.class})
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
      JsonNode meshes = address.fetchStatus().path("meshes");
      if (!meshes.isMissingNode()) {
        out.printf("%nthis mesh: mesh id %s; imports are named NAME.NS.svc.MESH_ID.%s%n", text(meshes.path("meshId")),
            text(meshes.path("importSuffix")));
        out.printf("%-16s %-24s %-8s %-6s %-8s %s%n", "PEER MESH", "TRUST DOMAIN", "AGE", "STALE", "IMPORTS",
            "LAST ERROR");
        for (JsonNode p : meshes.path("peers")) {
          long imported = 0;
          for (JsonNode i : p.path("imports")) if (i.path("leftOut").isNull()) imported++;
          out.printf("%-16s %-24s %-8s %-6s %-8d %s%n", text(p.path("meshId")), text(p.path("trustDomain")),
              p.path("ageSeconds").isNull() ? "-" : p.path("ageSeconds").asText() + "s",
              p.path("stale").asBoolean() ? "yes" : "no", imported,
              p.path("lastError").isNull() ? "" : text(p.path("lastError")));
          for (JsonNode i : p.path("imports")) {
            out.printf("  imported %s -> %s via %s%s%n", text(i.path("host")), text(i.path("exportedHost")),
                join(i.path("gateways")), i.path("leftOut").isNull() ? "" : " LEFT OUT: " + text(i.path("leftOut")));
          }
        }
        for (JsonNode refused : meshes.path("refusedPeers")) {
          out.println("refused: " + text(refused));
        }
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

  private static String join(JsonNode list) {
    java.util.List<String> out = new java.util.ArrayList<>();
    list.forEach(x -> out.add(text(x)));
    return out.isEmpty() ? "-" : String.join(",", out);
  }

  @Command(name = "export", mixinStandardHelpOptions = true, showDefaultValues = true,
      description = "Show what this mesh exports to a peer mesh and why: each Service or ServiceEntry whose "
          + "weft.io/export-to label names it, with the identities and gateways the peer is given.")
  static final class Export implements Callable<Integer> {
    @picocli.CommandLine.Mixin
    ControlPlaneAddress address;

    @picocli.CommandLine.Option(names = "--peer", paramLabel = "MESH_ID", required = true,
        description = "The peer's mesh id, as its MeshFederation names it.")
    String peer;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      JsonNode meshes = address.fetchStatus().path("meshes");
      if (meshes.isMissingNode()) {
        throw new CommandFailure("this control plane has no CA (--ca-dir), so it federates with no mesh");
      }
      JsonNode found = null;
      java.util.List<String> known = new java.util.ArrayList<>();
      for (JsonNode p : meshes.path("peers")) {
        known.add(text(p.path("meshId")));
        if (p.path("meshId").asText().equals(peer)) found = p;
      }
      if (found == null) {
        throw new CommandFailure("no MeshFederation names mesh '" + weft.model.text.ClientText.forLog(peer)
            + "'; peers: " + (known.isEmpty() ? "none" : String.join(", ", known)) + ". Declare it first: nothing "
            + "is served to a mesh that is not a peer");
      }
      PrintWriter out = spec.commandLine().getOut();
      out.printf("exported to mesh %s (trust domain %s); nothing is exported without the label weft.io/export-to%n",
          text(found.path("meshId")), text(found.path("trustDomain")));
      int n = 0;
      for (JsonNode e : found.path("exports")) {
        n++;
        boolean exported = e.path("leftOut").isNull();
        out.printf("%s %s%n  because %s has %s%n", exported ? "EXPORTED" : "NOT EXPORTED", text(e.path("host")),
            text(e.path("declaredBy")), text(e.path("label")));
        if (exported) {
          out.printf("  identities %s%n  gateways %s%n", join(e.path("identities")), join(e.path("gateways")));
        } else {
          out.printf("  left out: %s%n", text(e.path("leftOut")));
        }
      }
      if (n == 0) out.println("(nothing: no Service or ServiceEntry is labelled for it)");
      out.flush();
      return 0;
    }
  }
}
