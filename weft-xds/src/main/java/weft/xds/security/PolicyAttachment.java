package weft.xds.security;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Whether a policy attached by {@code targetRefs} (AuthorizationPolicy, RequestAuthentication)
 * applies to a proxy, as Istio attaches them: a {@code Gateway} of the Gateway API names the pods of
 * that Gateway in the policy's namespace (their {@code gateway.networking.k8s.io/gateway-name}
 * label, which Istio's deployment sets). Attachment to a Service or ServiceEntry configures its
 * waypoint, and to a GatewayClass every Gateway of the class from the root namespace: Weft runs no
 * waypoints and does not follow class attachment, so those are reported, never applied to sidecars.
 */
public final class PolicyAttachment {
  static final String GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name";

  private PolicyAttachment() {}

  /**
   * @param targetRefs the policy's references as {@code Kind/name}
   * @param note told why a reference cannot be followed (once per reference kind Weft lacks)
   */
  public static boolean attached(List<String> targetRefs, String policyNamespace, String proxyNamespace,
      Map<String, String> proxyLabels, Consumer<String> note) {
    boolean applies = false;
    for (String ref : targetRefs) {
      int slash = ref.indexOf('/');
      String kind = slash < 0 ? ref : ref.substring(0, slash);
      String name = slash < 0 ? "" : ref.substring(slash + 1);
      switch (kind) {
        case "Gateway" -> {
          if (policyNamespace.equals(proxyNamespace) && name.equals(proxyLabels.get(GATEWAY_NAME_LABEL))) {
            applies = true;
          }
        }
        case "GatewayClass" -> note.accept("attached to GatewayClass " + name + ", which Weft does not follow; attach "
            + "it to each Gateway (kind: Gateway) instead");
        default -> note.accept("attached to " + ref + ", which configures its waypoint; Weft runs no waypoints, so it "
            + "applies nowhere");
      }
    }
    return applies;
  }
}
