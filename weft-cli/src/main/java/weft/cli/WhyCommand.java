package weft.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "why", mixinStandardHelpOptions = true, showDefaultValues = true,
    description = {"Walk the path a request from SOURCE to DESTINATION would take, as the control plane serves "
        + "it: visibility, route, cluster, client TLS, endpoints per cluster and network (gateways, locality "
        + "priorities), server TLS and authorization, each step with the resource (and file) that decided it. "
        + "Ends with \"reachable\" or the first step that stops the request.",
        "Exit code: 0 reachable, 3 not reachable, 1 the control plane could not answer, 2 wrong usage."})
final class WhyCommand implements Callable<Integer> {
  /** The answer is "no": distinct from a failure to get one. */
  static final int NOT_REACHABLE = 3;

  @picocli.CommandLine.Mixin
  ControlPlaneAddress address;

  @Parameters(index = "0", paramLabel = "SOURCE",
      description = "A connected proxy (node id, POD.NAMESPACE, pod name or unique prefix), or a pod name, "
          + "POD.NAMESPACE or address of a workload in --cluster.")
  String source;

  @Parameters(index = "1", paramLabel = "DESTINATION[:PORT]",
      description = "A host (short names are relative to the source's namespace; NAME.NAMESPACE is a Kubernetes "
          + "service) and the port, needed when the service has several.")
  String destination;

  @Option(names = "--cluster", paramLabel = "ID",
      description = {"The cluster of a workload SOURCE.", "Default: the control plane's own cluster."})
  String cluster;

  @Option(names = "--proxyless", description = "Walk a workload SOURCE as a proxyless gRPC client rather than an "
      + "Envoy sidecar. Default: off.")
  boolean proxyless;

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    StringBuilder path = new StringBuilder("/debug/why?source=").append(enc(source)).append("&destination=")
        .append(enc(destination));
    if (cluster != null) path.append("&cluster=").append(enc(cluster));
    if (proxyless) path.append("&proxyless=true");
    HttpResponse<String> response = address.get(path.toString());
    JsonNode body;
    try {
      body = new ObjectMapper().readTree(response.body());
    } catch (IOException e) {
      throw new CommandFailure(response.uri() + " answered HTTP " + response.statusCode() + " without JSON; is "
          + address.address + " the monitoring port of a weft control plane? Point --control-plane at it");
    }
    if (response.statusCode() != 200) {
      throw new CommandFailure(body.path("error").asText("answered HTTP " + response.statusCode()));
    }
    PrintWriter out = spec.commandLine().getOut();
    int i = 1;
    for (JsonNode step : body.path("steps")) {
      out.printf("%2d. %-4s %s: %s%n", i++, step.path("passes").asBoolean() ? "ok" : "STOP", step.path("step").asText(),
          step.path("detail").asText());
      out.printf("         decided by: %s%n", step.path("decidedBy").asText());
    }
    out.println(body.path("reachable").asBoolean() ? body.path("verdict").asText()
        : "not reachable: " + body.path("verdict").asText());
    out.flush();
    return body.path("reachable").asBoolean() ? 0 : NOT_REACHABLE;
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
