package weft.model;

import java.util.List;
import java.util.Map;

/**
 * A {@code networking.istio.io} Gateway: which router proxies (by {@code selector} on their labels)
 * listen on which ports for which hosts.
 */
public record Gateway(ResourceId id, Map<String, String> selector, List<Server> servers) implements Resource {
  public Gateway {
    selector = Map.copyOf(selector);
    servers = List.copyOf(servers);
  }

  /**
   * One listener of the gateway. {@code hosts} are Istio's {@code [namespace/]dnsName} forms;
   * {@code tls} is null for plaintext; {@code bind} is null when unset.
   */
  public record Server(Port port, List<String> hosts, Tls tls, String name, String bind) {
    public Server {
      hosts = List.copyOf(hosts);
    }
  }

  /** {@code protocol} is Istio's upper-case name (HTTP, HTTPS, HTTP2, GRPC, TCP, TLS, MONGO...); targetPort 0 when unset. */
  public record Port(int number, String protocol, String name, int targetPort) {}

  /**
   * {@code mode} is PASSTHROUGH, SIMPLE, MUTUAL, AUTO_PASSTHROUGH, ISTIO_MUTUAL or OPTIONAL_MUTUAL
   * (PASSTHROUGH when unset, the first value of Istio's enum). Files are null when unset.
   */
  public record Tls(String mode, boolean httpsRedirect, String credentialName, String serverCertificate,
      String privateKey, String caCertificates, List<String> subjectAltNames) {
    public Tls {
      subjectAltNames = List.copyOf(subjectAltNames);
    }
  }
}
