package weft.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import picocli.CommandLine.Option;

/** {@code --control-plane URL}: where operator commands read {@code /debug/status}. */
final class ControlPlaneAddress {
  @Option(names = "--control-plane", defaultValue = "http://localhost:15014",
      description = "The control plane's monitoring address (default ${DEFAULT-VALUE}).")
  String url;

  JsonNode fetchStatus() throws IOException, InterruptedException {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> response = client.send(HttpRequest.newBuilder(URI.create(url + "/debug/status"))
        .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IOException(url + "/debug/status answered " + response.statusCode());
    }
    return new ObjectMapper().readTree(response.body());
  }

  /** GET of a path (with its query) on the monitoring port, whatever the status code. */
  HttpResponse<String> get(String pathAndQuery) throws IOException, InterruptedException {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    return client.send(HttpRequest.newBuilder(URI.create(url + pathAndQuery)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
