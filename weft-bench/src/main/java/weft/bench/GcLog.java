package weft.bench;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the control plane's unified GC log ({@code -Xlog:gc}) for its peak heap use. Heap in use
 * is highest just before a collection, and every collection logs that figure
 * ({@code GC(7) Pause Young (Normal) (G1 Evacuation Pause) 812M->96M(2048M) 4.1ms}), so the largest
 * "before" figure is the peak. The log is written by the JVM anyway: reading it costs the control
 * plane nothing, unlike polling it.
 */
final class GcLog {
  /** before->after(committed), each with a unit; the unit is K, M or G as the JVM scales it. */
  private static final Pattern SIZES = Pattern.compile("(\\d+)([KMG])->(\\d+)([KMG])\\((\\d+)([KMG])\\)");

  private GcLog() {}

  /** The largest heap use and commitment seen before collections, in KB (0 when nothing was collected). */
  record Peak(long usedKb, long committedKb) {
    Peak max(Peak other) {
      return new Peak(Math.max(usedKb, other.usedKb), Math.max(committedKb, other.committedKb));
    }
  }

  /** The peak over {@code lines}, e.g. the lines logged during one phase of a run. */
  static Peak peak(Iterable<String> lines) {
    Peak peak = new Peak(0, 0);
    for (String line : lines) {
      Matcher m = SIZES.matcher(line);
      if (!m.find()) continue;
      peak = peak.max(new Peak(kb(m.group(1), m.group(2)), kb(m.group(5), m.group(6))));
    }
    return peak;
  }

  private static long kb(String value, String unit) {
    long v = Long.parseLong(value);
    return switch (unit) {
      case "G" -> v << 20;
      case "M" -> v << 10;
      default -> v;
    };
  }
}
