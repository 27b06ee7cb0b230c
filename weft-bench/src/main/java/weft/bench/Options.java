package weft.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A mode's command line: {@code --flag} switches and {@code --name VALUE} options, each known by
 * name; anything else stops the run with one line saying what.
 */
final class Options {
  private final Set<String> flags = new HashSet<>();
  private final Map<String, String> values = new HashMap<>();

  private Options() {}

  /** @param flagNames switches without a value; @param valueNames options followed by a value */
  static Options parse(String[] args, Set<String> flagNames, Set<String> valueNames) {
    Options o = new Options();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (flagNames.contains(a)) {
        o.flags.add(a);
      } else if (valueNames.contains(a)) {
        if (i + 1 >= args.length) throw new IllegalArgumentException(a + " needs a value");
        o.values.put(a, args[++i]);
      } else {
        List<String> known = new ArrayList<>(flagNames);
        known.addAll(valueNames);
        known.sort(null);
        throw new IllegalArgumentException("unknown option " + a + "; known: " + String.join(" ", known));
      }
    }
    return o;
  }

  boolean flag(String name) {
    return flags.contains(name);
  }

  String string(String name, String otherwise) {
    return values.getOrDefault(name, otherwise);
  }

  int integer(String name, int otherwise) {
    String v = values.get(name);
    if (v == null) return otherwise;
    try {
      return Integer.parseInt(v.replace("_", ""));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " needs a whole number, not " + v);
    }
  }

  /** A comma-separated list of whole numbers, e.g. {@code --services-axis 1000,3000,10000}. */
  List<Integer> integers(String name, List<Integer> otherwise) {
    String v = values.get(name);
    if (v == null) return otherwise;
    List<Integer> out = new ArrayList<>();
    for (String part : v.split(",")) {
      try {
        out.add(Integer.parseInt(part.trim().replace("_", "")));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(name + " needs whole numbers separated by commas, not " + v);
      }
    }
    return List.copyOf(out);
  }
}
