package weft.model.gatewayapi;

import java.util.List;
import java.util.Map;
import weft.model.GatewayRoute;
import weft.model.ResourceId;

/**
 * The status Istio's gateway controller writes for the Gateway API objects of its classes, as the
 * translation decides it: per Gateway its conditions and each listener's (with the number of routes
 * attached), per route one entry for each of its parents that is Istio's (a Gateway of class
 * {@code istio}, or a Service for mesh routes). Conditions use the Gateway API's types and reasons;
 * times and generations are the writer's to fill in.
 */
public record GatewayApiStatus(Map<ResourceId, GatewayStatus> gateways, Map<ResourceId, List<ParentStatus>> routes) {
  public static final GatewayApiStatus EMPTY = new GatewayApiStatus(Map.of(), Map.of());
  /** The controller name Istio writes in route parent status, kept so Istio tooling reads it as its own. */
  public static final String CONTROLLER = "istio.io/gateway-controller";

  public GatewayApiStatus {
    gateways = Map.copyOf(gateways);
    routes = Map.copyOf(routes);
  }

  public record Condition(String type, boolean status, String reason, String message) {}

  public record ListenerStatus(String name, List<String> supportedKinds, int attachedRoutes,
      List<Condition> conditions) {
    public ListenerStatus {
      supportedKinds = List.copyOf(supportedKinds);
      conditions = List.copyOf(conditions);
    }
  }

  public record GatewayStatus(List<Condition> conditions, List<ListenerStatus> listeners) {
    public GatewayStatus {
      conditions = List.copyOf(conditions);
      listeners = List.copyOf(listeners);
    }
  }

  public record ParentStatus(GatewayRoute.ParentRef parentRef, List<Condition> conditions) {
    public ParentStatus {
      conditions = List.copyOf(conditions);
    }
  }
}
