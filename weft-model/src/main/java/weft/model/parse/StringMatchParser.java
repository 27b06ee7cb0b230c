package weft.model.parse;

import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import weft.model.StringMatch;

/** Istio's StringMatch: exactly one of exact, prefix or regex. */
final class StringMatchParser {
  /** Longer regexes make Envoy's RE2 programs too large; Istio refuses them for the same reason. */
  private static final int MAX_REGEX = 1024;

  /**
   * What {@code {}} means for a header or query parameter: "present, with any value". Istio documents
   * the empty match for that; Envoy's regex matchers only match a present header, so ".*" is exact.
   */
  static final StringMatch PRESENT = new StringMatch(StringMatch.Kind.REGEX, ".*");

  private StringMatchParser() {}

  /**
   * Reads a match; null after an error. {@code presenceAllowed}: an empty match means "present" (headers,
   * withoutHeaders, queryParams); elsewhere it is an error.
   */
  static StringMatch read(Fields f, boolean presenceAllowed) {
    Report report = f.report();
    if (!f.present()) {
      report.error(f.path(), f.path() + " has no value; write exact, prefix or regex"
          + (presenceAllowed ? ", or {} to match any value" : ""));
      return null;
    }
    int set = (f.has("exact") ? 1 : 0) + (f.has("prefix") ? 1 : 0) + (f.has("regex") ? 1 : 0);
    String exact = f.string("exact");
    String prefix = f.string("prefix");
    String regex = f.string("regex");
    f.rejectUnknown("StringMatch");
    if (set > 1) {
      report.error(f.path(), f.path() + " sets " + set + " of exact, prefix and regex; set exactly one");
      return null;
    }
    if (set == 0) {
      if (presenceAllowed) return PRESENT;
      report.error(f.path(), f.path() + " sets none of exact, prefix and regex; set exactly one");
      return null;
    }
    if (exact != null) return new StringMatch(StringMatch.Kind.EXACT, exact);
    if (prefix != null) return new StringMatch(StringMatch.Kind.PREFIX, prefix);
    if (regex == null) return null; // wrong type, already reported
    String where = f.at("regex");
    if (regex.isEmpty()) {
      report.error(where, where + " is empty; write a regular expression or use exact/prefix");
      return null;
    }
    if (regex.length() > MAX_REGEX) {
      report.error(where, where + " is longer than " + MAX_REGEX + " characters; simplify it");
      return null;
    }
    try {
      Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      report.error(where, where + " is not a valid regular expression (" + e.getDescription() + " near index "
          + e.getIndex() + "); Istio uses RE2 syntax");
      return null;
    }
    return new StringMatch(StringMatch.Kind.REGEX, regex);
  }
}
