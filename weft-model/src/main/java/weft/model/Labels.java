package weft.model;

import java.util.Map;

/** Label-selector matching as Kubernetes and Istio use it (equality selectors only). */
public final class Labels {
  private Labels() {}

  /** True when every key/value of {@code selector} is present in {@code labels}; an empty selector matches all. */
  public static boolean matches(Map<String, String> selector, Map<String, String> labels) {
    for (Map.Entry<String, String> e : selector.entrySet()) {
      if (!e.getValue().equals(labels.get(e.getKey()))) return false;
    }
    return true;
  }
}
