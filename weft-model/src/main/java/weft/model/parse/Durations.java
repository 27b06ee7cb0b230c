package weft.model.parse;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;

/**
 * Duration strings as Istio accepts them in YAML: protobuf's {@code "1.5s"} form and Go's
 * {@code time.ParseDuration} form ({@code "100ms"}, {@code "2m"}, {@code "1h30m"}, {@code "250us"}).
 * Both are sequences of a decimal number followed by a unit; only {@code "0"} may omit the unit.
 */
public final class Durations {
  private static final String EXAMPLES = "write a number with a unit, e.g. 1s, 0.5s, 100ms, 2m, 1h or 1h30m";
  private static final BigInteger MAX_NANOS = BigInteger.valueOf(Long.MAX_VALUE);

  private Durations() {}

  /** Parses {@code text}; throws IllegalArgumentException saying what is wrong when malformed or negative. */
  public static Duration parse(String text) {
    if (text == null) throw new IllegalArgumentException("duration is missing; " + EXAMPLES);
    String s = text.strip();
    if (s.isEmpty()) throw new IllegalArgumentException("duration is empty; " + EXAMPLES);
    if (s.startsWith("-")) {
      throw new IllegalArgumentException("duration \"" + text + "\" is negative; durations must be 0 or more");
    }
    if (s.startsWith("+")) s = s.substring(1);
    if (s.equals("0")) return Duration.ZERO;
    BigDecimal nanos = BigDecimal.ZERO;
    int i = 0;
    while (i < s.length()) {
      int start = i;
      while (i < s.length() && (Character.isDigit(s.charAt(i)) || s.charAt(i) == '.')) i++;
      String number = s.substring(start, i);
      if (number.isEmpty() || number.equals(".") || number.indexOf('.') != number.lastIndexOf('.')) {
        throw malformed(text, "expected a number at position " + (start + 1));
      }
      int unitStart = i;
      while (i < s.length() && !Character.isDigit(s.charAt(i)) && s.charAt(i) != '.') i++;
      String unit = s.substring(unitStart, i);
      long scale = unitNanos(unit);
      if (scale < 0) {
        throw malformed(text, unit.isEmpty() ? "a unit is missing after " + number
            : "unknown unit \"" + unit + "\" (use ns, us, ms, s, m or h)");
      }
      nanos = nanos.add(new BigDecimal(number.startsWith(".") ? "0" + number : number)
          .multiply(BigDecimal.valueOf(scale)));
    }
    BigInteger whole = nanos.setScale(0, java.math.RoundingMode.DOWN).toBigIntegerExact();
    if (whole.compareTo(MAX_NANOS) > 0) {
      throw new IllegalArgumentException("duration \"" + text + "\" is too large");
    }
    return Duration.ofNanos(whole.longValueExact());
  }

  private static IllegalArgumentException malformed(String text, String why) {
    return new IllegalArgumentException("invalid duration \"" + text + "\": " + why + "; " + EXAMPLES);
  }

  private static long unitNanos(String unit) {
    return switch (unit) {
      case "ns" -> 1L;
      case "us", "µs", "μs" -> 1_000L;
      case "ms" -> 1_000_000L;
      case "s" -> 1_000_000_000L;
      case "m" -> 60_000_000_000L;
      case "h" -> 3_600_000_000_000L;
      default -> -1L;
    };
  }
}
