package weft.model.gatewayapi;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import weft.model.ConfigProblem;
import weft.model.ResourceId;

/**
 * What the translation found about attachment and references: Istio writes these into the route's
 * and the Gateway's status conditions; Weft reports them as warnings against the resource.
 */
final class Findings {
  private final LinkedHashSet<ConfigProblem> problems = new LinkedHashSet<>();

  void warn(ResourceId resource, String field, String message) {
    problems.add(ConfigProblem.warning(null, resource, field, message));
  }

  List<ConfigProblem> all() {
    return List.copyOf(new ArrayList<>(problems));
  }
}
