package weft.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * {@code --control-plane}: where operator commands read a control plane's monitoring port. Every
 * failure to get an answer becomes one line naming the address tried and the flag that changes it.
 */
final class ControlPlaneAddress {
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(10);

  @Option(names = "--control-plane", paramLabel = "HOST:PORT|URL", defaultValue = "http://localhost:15014",
      converter = MonitoringAddress.Converter.class,
      description = "The control plane's monitoring address: HOST:PORT (port default 15014) or an http(s) URL.")
  MonitoringAddress address;

  /** The JSON document at {@code /debug/status}. */
  JsonNode fetchStatus() {
    return getJson("/debug/status");
  }

  /** GETs {@code path} on the monitoring port and reads the answer as JSON. */
  JsonNode getJson(String path) {
    HttpResponse<String> response = get(path);
    URI uri = response.uri();
    if (response.statusCode() != 200) {
      throw new CommandFailure(uri + " answered HTTP " + response.statusCode() + "; is " + address
          + " the monitoring port of a weft control plane (default 15014)? Point --control-plane at it");
    }
    try {
      return new ObjectMapper().readTree(response.body());
    } catch (JsonProcessingException e) {
      throw new CommandFailure(uri + " did not answer JSON; is " + address
          + " the monitoring port of a weft control plane (default 15014)? Point --control-plane at it", e);
    }
  }

  /** GET of a path (with its query) on the monitoring port, whatever the status code. */
  HttpResponse<String> get(String pathAndQuery) {
    URI uri = address.resolve(pathAndQuery);
    try {
      HttpClient client = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build();
      return client.send(HttpRequest.newBuilder(uri).timeout(ANSWER_TIMEOUT).build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CommandFailure("interrupted while asking the control plane at " + address, e);
    } catch (IOException | UnresolvedAddressException e) {
      throw new CommandFailure(unreachable(e), e);
    }
  }

  private String unreachable(Exception e) {
    String why;
    if (e instanceof HttpConnectTimeoutException) {
      why = "no connection within " + CONNECT_TIMEOUT.toSeconds() + " s";
    } else if (e instanceof HttpTimeoutException) {
      why = "no answer within " + ANSWER_TIMEOUT.toSeconds() + " s";
    } else if (causedBy(e, ConnectException.class)) {
      why = "connection refused";
    } else if (causedBy(e, UnresolvedAddressException.class) || causedBy(e, UnknownHostException.class)) {
      why = "unknown host " + address.host();
    } else {
      why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
    return "cannot reach the control plane at " + address + " (" + why + "); is weft control-plane running "
        + "there? Point --control-plane at its monitoring address (HOST:PORT or URL)";
  }

  private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) return true;
    }
    return false;
  }

}
