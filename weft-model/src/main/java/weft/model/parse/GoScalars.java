package weft.model.parse;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What a plain (unquoted, untagged) YAML scalar is when Kubernetes' and Istio's Go tools read it:
 * sigs.k8s.io/yaml decodes with go-yaml v2 (YAML 1.1 rules, in its {@code resolve} function) and then
 * writes JSON. Every result here is the JSON value those tools would produce:
 *
 * <ul>
 *   <li>booleans: {@code y Y yes Yes YES on On ON true True TRUE} and {@code n N no No NO off Off OFF
 *       false False FALSE}; nothing else ({@code tRue} is a string);
 *   <li>null: empty, {@code ~ null Null NULL};
 *   <li>integers: an optional sign, then decimal, {@code 0x} hex, {@code 0o} or a leading {@code 0}
 *       octal ({@code 0777} is 511), or {@code 0b} binary, underscores ignored ({@code 1_000});
 *   <li>floats: {@code 1e3}, {@code 1.5}, {@code .5}, {@code 08} (not octal, so a float); one out of
 *       range ({@code 1e400}) stays a string; {@code .inf} and {@code .nan} are floats JSON cannot hold,
 *       so Go refuses the document;
 *   <li>everything else is a string, including timestamps ({@code 2024-01-02}), {@code 1:20} (no
 *       base-60 numbers) and IP addresses.
 * </ul>
 *
 * Mapping keys become JSON object keys: a number or boolean key is written as Go formats it
 * ({@code on:} is the key {@code "true"}); a null key is refused.
 */
final class GoScalars {
  private GoScalars() {}

  /** The JSON kind of a resolved scalar, with its canonical text. */
  enum Kind { STRING, BOOL, INT, FLOAT, NULL, NOT_JSON }

  record Resolved(Kind kind, String text) {}

  private static final Map<String, String> WORDS = Map.ofEntries(
      Map.entry("y", "true"), Map.entry("Y", "true"), Map.entry("yes", "true"), Map.entry("Yes", "true"),
      Map.entry("YES", "true"), Map.entry("on", "true"), Map.entry("On", "true"), Map.entry("ON", "true"),
      Map.entry("true", "true"), Map.entry("True", "true"), Map.entry("TRUE", "true"),
      Map.entry("n", "false"), Map.entry("N", "false"), Map.entry("no", "false"), Map.entry("No", "false"),
      Map.entry("NO", "false"), Map.entry("off", "false"), Map.entry("Off", "false"),
      Map.entry("OFF", "false"), Map.entry("false", "false"), Map.entry("False", "false"),
      Map.entry("FALSE", "false"));

  private static final java.util.Set<String> NULLS = java.util.Set.of("", "~", "null", "Null", "NULL");
  private static final java.util.Set<String> NOT_JSON = java.util.Set.of(".nan", ".NaN", ".NAN", ".inf", ".Inf",
      ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF");

  /** go-yaml v2's float syntax (its {@code yamlStyleFloat}), tried after the integer forms. */
  private static final Pattern FLOAT = Pattern.compile("[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?");
  /** A scalar starting with '.' is read by Go's ParseFloat, which allows this much of it. */
  private static final Pattern DOT_FLOAT = Pattern.compile("\\.[0-9]+([eE][-+]?[0-9]+)?");

  static Resolved resolve(String in) {
    if (NULLS.contains(in)) return new Resolved(Kind.NULL, "null");
    String word = WORDS.get(in);
    if (word != null) return new Resolved(Kind.BOOL, word);
    if (NOT_JSON.contains(in)) return new Resolved(Kind.NOT_JSON, in);
    char first = in.charAt(0);
    if (first == '.') {
      if (DOT_FLOAT.matcher(in).matches()) return floatOrString(in, in);
    } else if (first == '+' || first == '-' || (first >= '0' && first <= '9')) {
      String plain = in.replace("_", "");
      BigInteger integer = integer(plain);
      if (integer != null) return new Resolved(Kind.INT, integer.toString());
      if (FLOAT.matcher(plain).matches()) return floatOrString(plain, in);
    }
    return new Resolved(Kind.STRING, in);
  }

  private static Resolved floatOrString(String number, String in) {
    double d = Double.parseDouble(number);
    // Go's ParseFloat fails on overflow, and go-yaml then keeps the text as a string.
    if (Double.isInfinite(d)) return new Resolved(Kind.STRING, in);
    return new Resolved(Kind.FLOAT, BigDecimal.valueOf(d).toString());
  }

  /** Go's strconv.ParseInt(s, 0, ...) syntax, without its size limit; null when it is not one. */
  static BigInteger integer(String s) {
    int i = 0;
    boolean negative = false;
    if (s.startsWith("+") || s.startsWith("-")) {
      negative = s.charAt(0) == '-';
      i = 1;
    }
    String body = s.substring(i);
    int radix = 10;
    if (body.length() > 1 && body.charAt(0) == '0') {
      char p = Character.toLowerCase(body.charAt(1));
      if (p == 'x') {
        radix = 16;
        body = body.substring(2);
      } else if (p == 'o') {
        radix = 8;
        body = body.substring(2);
      } else if (p == 'b') {
        radix = 2;
        body = body.substring(2);
      } else {
        radix = 8;
        body = body.substring(1);
      }
    }
    if (body.isEmpty()) return null;
    for (int k = 0; k < body.length(); k++) {
      char c = body.charAt(k);
      if (c >= 128 || Character.digit(c, radix) < 0) return null; // ASCII digits only, as Go
    }
    BigInteger v = new BigInteger(body, radix);
    return negative ? v.negate() : v;
  }

  /**
   * The JSON object key Go writes for a plain scalar used as a mapping key (sigs.k8s.io/yaml turns
   * numbers and booleans into strings); null when Go refuses the key (a null key).
   */
  static String key(String in) {
    Resolved r = resolve(in);
    return switch (r.kind()) {
      case STRING, BOOL, INT -> r.text();
      case NULL -> null;
      case FLOAT -> float32Key(Double.parseDouble(r.text()));
      case NOT_JSON -> in.startsWith("-") ? "-.inf" : in.toLowerCase().contains("nan") ? ".nan" : ".inf";
    };
  }

  /** Go's strconv.FormatFloat(f, 'g', -1, 32): the shortest float32 digits, in %e form for large or tiny. */
  private static String float32Key(double d) {
    float f = (float) d;
    if (f == 0) return (1 / f < 0) ? "-0" : "0";
    if (Float.isInfinite(f)) return f > 0 ? ".inf" : "-.inf";
    BigDecimal digits = new BigDecimal(Float.toString(f)).stripTrailingZeros();
    int exponent = digits.precision() - digits.scale() - 1;
    if (exponent < -4 || exponent >= 6) { // Go's shortest %g switches to %e from 1e+06
      String mantissa = digits.unscaledValue().abs().toString();
      String m = mantissa.length() == 1 ? mantissa : mantissa.charAt(0) + "." + mantissa.substring(1);
      String e = (exponent < 0 ? "-" : "+") + (Math.abs(exponent) < 10 ? "0" : "") + Math.abs(exponent);
      return (digits.signum() < 0 ? "-" : "") + m + "e" + e;
    }
    return digits.toPlainString();
  }
}
