package weft.model;

import java.util.List;
import java.util.Map;

/**
 * A Kubernetes Gateway API {@code gateway.networking.k8s.io/v1} Gateway. Its id's kind is
 * {@link #KIND} (Istio's internal name), so that it never meets an Istio Gateway of the same name.
 *
 * @param creationTimestamp {@code metadata.creationTimestamp} as written, "" when unset
 */
public record KubernetesGateway(ResourceId id, String creationTimestamp, String gatewayClassName,
    List<Listener> listeners) implements Resource {
  public static final String KIND = "KubernetesGateway";

  public KubernetesGateway {
    creationTimestamp = creationTimestamp == null ? "" : creationTimestamp;
    listeners = List.copyOf(listeners);
  }

  /**
   * One listener. {@code hostname} is null when unset (every host); {@code tlsMode} is
   * {@code Terminate} or {@code Passthrough}, null without tls. {@code allowedFrom} is
   * {@code Same}, {@code All} or {@code Selector} (with {@code allowedSelector}'s matchLabels and
   * {@code allowedExpressions}, its matchExpressions);
   * {@code allowedKinds} empty means the kinds the protocol carries.
   */
  public record Listener(String name, String hostname, int port, String protocol, String tlsMode,
      List<ObjectRef> certificateRefs, String allowedFrom, Map<String, String> allowedSelector,
      List<String> allowedKinds, List<Labels.Requirement> allowedExpressions) {
    public Listener {
      certificateRefs = List.copyOf(certificateRefs);
      allowedSelector = Map.copyOf(allowedSelector);
      allowedKinds = List.copyOf(allowedKinds);
      allowedExpressions = List.copyOf(allowedExpressions);
    }

    /** A listener whose namespace selector has no {@code matchExpressions}. */
    public Listener(String name, String hostname, int port, String protocol, String tlsMode,
        List<ObjectRef> certificateRefs, String allowedFrom, Map<String, String> allowedSelector,
        List<String> allowedKinds) {
      this(name, hostname, port, protocol, tlsMode, certificateRefs, allowedFrom, allowedSelector, allowedKinds,
          List.of());
    }
  }

  /** A reference to another object; {@code namespace} already resolved (the referrer's when unset). */
  public record ObjectRef(String group, String kind, String namespace, String name) {}
}
