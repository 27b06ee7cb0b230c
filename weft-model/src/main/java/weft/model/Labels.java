package weft.model;

import java.util.Map;

/** Label-selector matching as Kubernetes and Istio use it (equality selectors only). */
public final class Labels {
  private Labels() {}

  /** True when every key/value of {@code selector} is present in {@code labels}; an empty selector matches all. */
  /**
   * One Kubernetes label selector requirement ({@code matchExpressions}): {@code operator} is In,
   * NotIn, Exists or DoesNotExist; {@code values} is empty for the last two.
   */
  public record Requirement(String key, String operator, java.util.List<String> values) {
    public Requirement {
      values = java.util.List.copyOf(values);
    }

    public boolean matches(Map<String, String> labels) {
      String v = labels.get(key);
      return switch (operator) {
        case "In" -> v != null && values.contains(v);
        case "NotIn" -> v == null || !values.contains(v);
        case "Exists" -> v != null;
        case "DoesNotExist" -> v == null;
        default -> false;
      };
    }
  }

  /** Whether {@code labels} meet every requirement as well as {@code selector}'s labels. */
  public static boolean matches(Map<String, String> selector, java.util.List<Requirement> requirements,
      Map<String, String> labels) {
    if (!matches(selector, labels)) return false;
    for (Requirement r : requirements) {
      if (!r.matches(labels)) return false;
    }
    return true;
  }

  public static boolean matches(Map<String, String> selector, Map<String, String> labels) {
    for (Map.Entry<String, String> e : selector.entrySet()) {
      if (!e.getValue().equals(labels.get(e.getKey()))) return false;
    }
    return true;
  }
}
