package weft.cli;

import java.net.URI;
import java.net.URISyntaxException;
import picocli.CommandLine;

/**
 * A control plane's monitoring address as a base URL. People type {@code localhost:15014} as often
 * as {@code http://localhost:15014}; both are accepted, and a bare host gets Istio's port 15014.
 */
record MonitoringAddress(URI base) {
  /** Istio's monitoring port. */
  static final int DEFAULT_PORT = 15014;

  String host() {
    return base.getHost();
  }

  URI resolve(String path) {
    return URI.create(base.toString() + path);
  }

  @Override
  public String toString() {
    return base.toString();
  }

  static MonitoringAddress parse(String text) {
    String s = text.strip();
    if (s.isEmpty()) throw invalid(text, "it is empty");
    URI uri;
    try {
      uri = new URI(s.contains("://") ? s : "http://" + s);
    } catch (URISyntaxException e) {
      throw invalid(text, e.getReason());
    }
    String scheme = uri.getScheme().toLowerCase(java.util.Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw invalid(text, "the scheme " + uri.getScheme() + " is not http or https");
    }
    if (uri.getHost() == null) throw invalid(text, "no host, or a port that is not a number");
    if (uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
      throw invalid(text, "give only the scheme, host, port and an optional path");
    }
    int port = uri.getPort() == -1 ? (s.contains("://") ? defaultPort(scheme) : DEFAULT_PORT) : uri.getPort();
    if (port < 1 || port > 65535) throw invalid(text, "the port is not in 1..65535");
    String path = uri.getRawPath() == null ? "" : uri.getRawPath().replaceAll("/+$", "");
    String host = uri.getHost().contains(":") && !uri.getHost().startsWith("[") ? "[" + uri.getHost() + "]"
        : uri.getHost();
    return new MonitoringAddress(URI.create(scheme + "://" + host + ":" + port + path));
  }

  private static int defaultPort(String scheme) {
    return scheme.equals("https") ? 443 : 80;
  }

  private static CommandLine.TypeConversionException invalid(String text, String why) {
    return new CommandLine.TypeConversionException("'" + text + "' is not a monitoring address (" + why
        + "); give HOST:PORT, e.g. localhost:15014, or a URL, e.g. http://localhost:15014");
  }

  static final class Converter implements CommandLine.ITypeConverter<MonitoringAddress> {
    @Override
    public MonitoringAddress convert(String value) {
      return parse(value);
    }
  }
}
