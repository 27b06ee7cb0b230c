package weft.model.parse;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads one YAML mapping as a protobuf message is read from JSON: field names are accepted in
 * camelCase or snake_case, explicit nulls mean "unset", numbers may be given as strings. It
 * remembers the path (for messages such as {@code spec.http[0].route[1].weight}) and which fields
 * were read, so that whatever is left over can be reported as unknown.
 *
 * <p>Readers never throw on bad input: they report an error and return null (or an empty collection),
 * and the caller's resource is rejected because its report has errors.
 */
final class Fields {
  private final Report report;
  private final String path;
  private final JsonNode node;
  /** JSON (camelCase) name to the key as written in the file. */
  private final Map<String, String> keys = new LinkedHashMap<>();
  private final Set<String> used = new HashSet<>();
  private final Set<String> known = new LinkedHashSet<>();

  private Fields(Report report, String path, JsonNode node) {
    this.report = report;
    this.path = path;
    this.node = node != null && node.isObject() ? node : null;
    if (this.node == null) return;
    for (Map.Entry<String, JsonNode> property : this.node.properties()) {
      String key = property.getKey();
      String name = jsonName(key);
      String earlier = keys.putIfAbsent(name, key);
      if (earlier != null) {
        used.add(name);
        report.error(child(key), child(key) + " repeats field " + child(earlier) + " (camelCase and snake_case "
            + "spellings of one field); keep only one of them");
      }
    }
  }

  /** The top of a document. */
  static Fields root(Report report, JsonNode node) {
    return new Fields(report, "", node);
  }

  /** Protobuf's JSON name of a proto field name: underscores dropped, the next character upper-cased. */
  static String jsonName(String key) {
    if (key.indexOf('_') < 0) return key;
    StringBuilder b = new StringBuilder(key.length());
    boolean upper = false;
    for (char c : key.toCharArray()) {
      if (c == '_') {
        upper = true;
      } else {
        b.append(upper ? Character.toUpperCase(c) : c);
        upper = false;
      }
    }
    return b.toString();
  }

  Report report() {
    return report;
  }

  String path() {
    return path;
  }

  /** True when this mapping exists in the input (an absent or null field reads as an empty mapping). */
  boolean present() {
    return node != null;
  }

  /** True when {@code name} is set to something other than null (an explicit null counts as read). */
  boolean has(String name) {
    known.add(name);
    JsonNode v = value(name);
    if (v == null && keys.containsKey(name)) used.add(name);
    return v != null;
  }

  /** The path of field {@code name}, spelled as the user wrote it when present. */
  String at(String name) {
    return child(keys.getOrDefault(name, name));
  }

  String child(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  private JsonNode value(String name) {
    String key = keys.get(name);
    if (key == null) return null;
    JsonNode v = node.get(key);
    return v == null || v.isNull() ? null : v;
  }

  /** The raw value of {@code name}, marking it read; null when absent or null. */
  JsonNode take(String name) {
    known.add(name);
    if (keys.containsKey(name)) used.add(name);
    return value(name);
  }

  /** Marks fields as read without looking at them (metadata, status and the like). */
  void ignore(String... names) {
    for (String n : names) take(n);
  }

  // ---- scalars ----

  String string(String name) {
    JsonNode v = take(name);
    if (v == null) return null;
    if (v.isTextual()) return v.textValue();
    report.error(at(name), at(name) + " must be a string, got " + describe(v) + "; put the value in quotes");
    return null;
  }

  String string(String name, String fallback) {
    String s = string(name);
    return s == null ? fallback : s;
  }

  /** A whole number, given as a number or as a string of digits (as protobuf JSON allows). */
  Long integer(String name) {
    JsonNode v = take(name);
    return v == null ? null : toLong(v, at(name));
  }

  Long toLong(JsonNode v, String where) {
    if (v.isIntegralNumber() && v.canConvertToLong()) return v.longValue();
    if (v.isFloatingPointNumber() && v.doubleValue() == Math.rint(v.doubleValue())
        && Math.abs(v.doubleValue()) < 9.0e15) {
      return (long) v.doubleValue();
    }
    if (v.isTextual()) {
      try {
        return Long.parseLong(v.textValue().strip());
      } catch (NumberFormatException e) {
        // reported below
      }
    }
    report.error(where, where + " must be a whole number, got " + describe(v) + "; write a number such as 8080");
    return null;
  }

  /** A whole number within [min, max]; {@code fix} tells the user what to do when it is not. */
  Long integerIn(String name, long min, long max, String fix) {
    Long v = integer(name);
    if (v != null && (v < min || v > max)) {
      report.error(at(name), at(name) + " must be between " + min + " and " + max + ", got " + v + "; " + fix);
      return null;
    }
    return v;
  }

  Integer int32(String name, long min, long max, String fix) {
    Long v = integerIn(name, min, max, fix);
    return v == null ? null : Math.toIntExact(v);
  }

  /** A port number 1..65535; null when absent. */
  Integer port(String name) {
    return int32(name, 1, 65535, "use a port number from 1 to 65535");
  }

  Integer nonNegative(String name) {
    return int32(name, 0, Integer.MAX_VALUE, "use 0 or a positive number");
  }

  Integer percent(String name) {
    return int32(name, 0, 100, "use a percentage from 0 to 100");
  }

  Double number(String name) {
    JsonNode v = take(name);
    if (v == null) return null;
    if (v.isNumber()) return v.doubleValue();
    if (v.isTextual()) {
      try {
        double d = Double.parseDouble(v.textValue().strip());
        if (Double.isFinite(d)) return d;
      } catch (NumberFormatException e) {
        // reported below
      }
    }
    report.error(at(name), at(name) + " must be a number, got " + describe(v));
    return null;
  }

  Boolean bool(String name) {
    JsonNode v = take(name);
    if (v == null) return null;
    if (v.isBoolean()) return v.booleanValue();
    report.error(at(name), at(name) + " must be true or false, got " + describe(v));
    return null;
  }

  boolean bool(String name, boolean fallback) {
    Boolean b = bool(name);
    return b == null ? fallback : b;
  }

  /**
   * A duration such as "5s". With {@code istioMinimum}, Istio's own rule applies: at least 1ms, and whole
   * milliseconds only.
   */
  Duration duration(String name, boolean istioMinimum) {
    JsonNode v = take(name);
    if (v == null) return null;
    if (!v.isTextual()) {
      report.error(at(name), at(name) + " must be a duration string such as \"5s\" or \"100ms\", got " + describe(v));
      return null;
    }
    Duration d;
    try {
      d = Durations.parse(v.textValue());
    } catch (IllegalArgumentException e) {
      report.error(at(name), e.getMessage());
      return null;
    }
    if (istioMinimum && d.compareTo(Duration.ofMillis(1)) < 0) {
      report.error(at(name), at(name) + " must be at least 1ms, got \"" + v.textValue() + "\"; use a longer duration");
      return null;
    }
    if (istioMinimum && d.toNanos() % 1_000_000 != 0) {
      report.error(at(name), at(name) + " must be a whole number of milliseconds, got \"" + v.textValue()
          + "\"; round it to milliseconds");
      return null;
    }
    return d;
  }

  /**
   * A protobuf enum given by name (exact spelling) or by number; {@code values} lists the names in number
   * order. Returns {@code fallback} when absent, null after an error.
   */
  String enumOf(String name, List<String> values, String fallback) {
    JsonNode v = take(name);
    if (v == null) return fallback;
    if (v.isTextual() && values.contains(v.textValue())) return v.textValue();
    if (v.isIntegralNumber() && v.asLong() >= 0 && v.asLong() < values.size()) return values.get(v.asInt());
    report.error(at(name), at(name) + " must be one of " + String.join(", ", values) + "; got " + describe(v));
    return null;
  }

  // ---- collections ----

  /** A list of strings; an absent field is an empty list. */
  List<String> strings(String name) {
    JsonNode v = take(name);
    List<String> out = new ArrayList<>();
    if (v == null) return out;
    if (!v.isArray()) {
      report.error(at(name), at(name) + " must be a list of strings, got " + describe(v) + "; write it as a YAML list");
      return out;
    }
    for (int i = 0; i < v.size(); i++) {
      JsonNode e = v.get(i);
      if (e.isTextual()) {
        out.add(e.textValue());
      } else {
        report.error(at(name) + "[" + i + "]", at(name) + "[" + i + "] must be a string, got " + describe(e));
      }
    }
    return out;
  }

  /** A map of string to string (labels, selectors); an absent field is an empty map. */
  Map<String, String> stringMap(String name) {
    Map<String, String> out = new LinkedHashMap<>();
    JsonNode v = take(name);
    if (v == null) return out;
    if (!v.isObject()) {
      report.error(at(name), at(name) + " must be a mapping of names to strings, got " + describe(v));
      return out;
    }
    for (Map.Entry<String, JsonNode> e : v.properties()) {
      String where = at(name) + "." + e.getKey();
      if (e.getValue().isTextual()) {
        out.put(e.getKey(), e.getValue().textValue());
      } else {
        report.error(where, where + " must be a string, got " + describe(e.getValue()) + "; put the value in quotes");
      }
    }
    return out;
  }

  /** A map of string to whole number, each value within [min, max]. */
  Map<String, Long> integerMap(String name, long min, long max, String fix) {
    Map<String, Long> out = new LinkedHashMap<>();
    JsonNode v = take(name);
    if (v == null) return out;
    if (!v.isObject()) {
      report.error(at(name), at(name) + " must be a mapping of names to numbers, got " + describe(v));
      return out;
    }
    for (Map.Entry<String, JsonNode> e : v.properties()) {
      String where = at(name) + "." + e.getKey();
      Long n = toLong(e.getValue(), where);
      if (n == null) continue;
      if (n < min || n > max) {
        report.error(where, where + " must be between " + min + " and " + max + ", got " + n + "; " + fix);
      } else {
        out.put(e.getKey(), n);
      }
    }
    return out;
  }

  /** A nested message; absent reads as an empty, non-present Fields. */
  Fields object(String name) {
    JsonNode v = take(name);
    if (v != null && !v.isObject()) {
      report.error(at(name), at(name) + " must be a mapping (a YAML object), got " + describe(v));
      return new Fields(report, at(name), null);
    }
    return new Fields(report, at(name), v);
  }

  /** A repeated message; an absent field is an empty list. */
  List<Fields> objects(String name) {
    JsonNode v = take(name);
    List<Fields> out = new ArrayList<>();
    if (v == null) return out;
    if (!v.isArray()) {
      report.error(at(name), at(name) + " must be a list, got " + describe(v) + "; write it as a YAML list");
      return out;
    }
    for (int i = 0; i < v.size(); i++) {
      String where = at(name) + "[" + i + "]";
      JsonNode e = v.get(i);
      if (!e.isObject()) {
        report.error(where, where + " must be a mapping (a YAML object), got " + describe(e));
        continue;
      }
      out.add(new Fields(report, where, e));
    }
    return out;
  }

  /** A map of string to message (header matches, networks); an absent field is an empty map. */
  Map<String, Fields> objectMap(String name) {
    JsonNode v = take(name);
    Map<String, Fields> out = new LinkedHashMap<>();
    if (v == null) return out;
    if (!v.isObject()) {
      report.error(at(name), at(name) + " must be a mapping, got " + describe(v));
      return out;
    }
    for (Map.Entry<String, JsonNode> e : v.properties()) {
      String where = at(name) + "." + e.getKey();
      if (e.getValue().isNull()) {
        out.put(e.getKey(), new Fields(report, where, null)); // the caller decides whether null is allowed
      } else if (!e.getValue().isObject()) {
        report.error(where, where + " must be a mapping (a YAML object), got " + describe(e.getValue()));
      } else {
        out.put(e.getKey(), new Fields(report, where, e.getValue()));
      }
    }
    return out;
  }

  // ---- schema bookkeeping ----

  /** Fields Istio knows but Weft does not implement: one warning each when set, then ignored. */
  void notImplemented(String... names) {
    warnIfSet("is not implemented by Weft yet; ignored", names);
  }

  /** Accepts each of {@code names} when set, with one warning "PATH WHY". */
  void warnIfSet(String why, String... names) {
    for (String n : names) {
      known.add(n);
      if (keys.containsKey(n)) {
        used.add(n);
        if (value(n) != null) report.warn(at(n), at(n) + " " + why); // an explicit null sets nothing
      }
    }
  }

  /** The keys (as written) that no reader has asked for, marking them read. */
  List<String> drainUnread() {
    List<String> out = new ArrayList<>();
    keys.forEach((name, key) -> {
      if (used.add(name)) out.add(key);
    });
    return out;
  }

  /**
   * Fields Istio's API had and removed, by message, with what replaces them. Istio's loader reads
   * old files with them without complaint and ignores them, so Weft warns and ignores them too.
   */
  private static final Map<String, Map<String, String>> REMOVED = Map.of(
      "HTTPRoute", Map.of(
          "appendHeaders", "use headers.request.add",
          "appendRequestHeaders", "use headers.request.add",
          "removeRequestHeaders", "use headers.request.remove",
          "appendResponseHeaders", "use headers.response.add",
          "removeResponseHeaders", "use headers.response.remove",
          "websocketUpgrade", "WebSocket upgrades are always allowed"),
      "Server", Map.of("defaultEndpoint", "route with a VirtualService"));

  /** Reports every field that no reader asked for as an error: a typo, or a field Istio does not have. */
  void rejectUnknown(String type) {
    if (node == null) return;
    Map<String, String> removed = REMOVED.getOrDefault(type, Map.of());
    for (Map.Entry<String, String> e : keys.entrySet()) {
      if (used.contains(e.getKey())) continue;
      String where = child(e.getValue());
      if (removed.containsKey(e.getKey())) {
        used.add(e.getKey());
        report.warn(where, where + " was removed from Istio's API and has no effect there or in Weft; it is ignored ("
            + removed.get(e.getKey()) + ")");
        continue;
      }
      String hint = Spelling.closest(e.getKey(), known);
      report.error(where, where + " is not a field of " + type
          + (hint == null ? "" : "; did you mean " + child(hint) + "?")
          + (hint == null ? "; check the spelling or remove it" : "")
          + " (known fields: " + String.join(", ", known) + ")");
    }
  }

  static String describe(JsonNode v) {
    if (v == null || v.isNull()) return "nothing";
    if (v.isTextual()) return "\"" + v.textValue() + "\"";
    if (v.isArray()) return "a list";
    if (v.isObject()) return "a mapping";
    return v.toString();
  }
}
