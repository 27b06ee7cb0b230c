package weft.model;

/** Istio's StringMatch: exactly one of exact, prefix or regex. */
public record StringMatch(Kind kind, String value) {
  public enum Kind { EXACT, PREFIX, REGEX }
}
