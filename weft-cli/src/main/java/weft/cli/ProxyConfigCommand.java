package weft.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "proxy-config", mixinStandardHelpOptions = true, showDefaultValues = true,
    description = {"Print a connected proxy's configuration for what it watches: tables like istioctl "
        + "proxy-config, or with -o json Envoy's config dump; a resource it has not been sent yet shows "
        + "client_status (STATUS) REQUESTED. Private keys and other secrets are always redacted.",
        "TYPE: all, clusters, endpoints, listeners, routes or secrets.",
        "PROXY: the node id, POD.NAMESPACE, a pod name, or a prefix only one proxy has (see weft proxy-status)."})
final class ProxyConfigCommand implements Callable<Integer> {
  static final List<String> TYPES = List.of("all", "clusters", "endpoints", "listeners", "routes", "secrets");

  @picocli.CommandLine.Mixin
  ControlPlaneAddress address;

  @Parameters(index = "0", paramLabel = "TYPE", description = "all|clusters|endpoints|listeners|routes|secrets")
  String type;

  @Parameters(index = "1", paramLabel = "PROXY", description = "Node id, POD.NAMESPACE, pod name or unique prefix.")
  String proxy;

  @Option(names = {"-o", "--output"}, defaultValue = "short",
      description = "Output format: short (tables, like istioctl proxy-config) or json (Envoy's config dump).")
  String output;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (!TYPES.contains(type)) {
      err.println("weft proxy-config: unknown type \"" + type + "\"; use one of " + String.join(", ", TYPES));
      return 2;
    }
    if (!output.equals("json") && !output.equals("short")) {
      err.println("weft proxy-config: -o " + output + " is not an output format; use -o short (tables) or -o json");
      return 2;
    }
    String path = "/debug/config_dump?proxy=" + URLEncoder.encode(proxy, StandardCharsets.UTF_8) + "&types=" + type;
    HttpResponse<String> response = address.get(path);
    if (response.statusCode() == 200) {
      if (output.equals("json")) {
        out.println(response.body());
      } else {
        ProxyConfigTables.print(new ObjectMapper().readTree(response.body()), type, out);
      }
      out.flush();
      return 0;
    }
    String message = "answered " + response.statusCode();
    JsonNode matches = null;
    try {
      JsonNode body = new ObjectMapper().readTree(response.body());
      if (body.hasNonNull("error")) message = body.get("error").asText();
      matches = body.get("matches");
    } catch (IOException e) {
      // not our JSON (an older control plane, or something else on that port): keep the status code
    }
    err.println("weft proxy-config: " + message);
    if (matches != null) for (JsonNode m : matches) err.println("  " + m.asText());
    err.flush();
    return 1;
  }
}
