package weft.model.text;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * How many log lines one source (a stream, a port) may write per kind of event in a window of
 * time. A client that repeats an event ten thousand times a second must not turn the log into its
 * own channel, yet the operator must still see that it happens and how often: the first lines of a
 * window are written, the rest are counted, and the next line written says how many were left out.
 * Metrics count every event; this only decides what reaches the log.
 *
 * <p>Thread-safe; meant to be used by one stream's or one port's callers, so the lock is uncontended.
 */
public final class LogBudget {
  /** A few lines per kind per minute: enough to see what a client does, too few to flood anything. */
  public static final int DEFAULT_LINES = 3;
  public static final Duration DEFAULT_WINDOW = Duration.ofMinutes(1);

  private final int lines;
  private final long windowNanos;
  private final LongSupplier nanoClock;
  private final Map<String, Window> windows = new HashMap<>();

  private static final class Window {
    long startNanos;
    int written;
    long suppressed;
  }

  /** {@link #DEFAULT_LINES} per {@link #DEFAULT_WINDOW}, on the system's monotonic clock. */
  public LogBudget() {
    this(DEFAULT_LINES, DEFAULT_WINDOW, System::nanoTime);
  }

  public LogBudget(int lines, Duration window, LongSupplier nanoClock) {
    if (lines < 1) throw new IllegalArgumentException("at least one line per window, got " + lines);
    this.lines = lines;
    this.windowNanos = window.toNanos();
    this.nanoClock = Objects.requireNonNull(nanoClock);
  }

  /**
   * Whether one more line of {@code kind} may be written now: null when it is to be left out (it is
   * counted), otherwise the text to end the line with, which names how many lines of this kind were
   * left out since the last one written (empty when none were).
   */
  public synchronized String admit(String kind) {
    long now = nanoClock.getAsLong();
    Window w = windows.computeIfAbsent(kind, k -> new Window());
    if (w.written == 0 || now - w.startNanos >= windowNanos) {
      w.startNanos = now;
      w.written = 0;
    }
    if (w.written >= lines) {
      w.suppressed++;
      return null;
    }
    w.written++;
    String suffix = w.suppressed == 0 ? ""
        : " (" + w.suppressed + " more like this not logged; at most " + lines + " per "
            + describe(windowNanos) + ")";
    w.suppressed = 0;
    return suffix;
  }

  /** Lines of {@code kind} left out and not yet reported by a later line. */
  public synchronized long suppressed(String kind) {
    Window w = windows.get(kind);
    return w == null ? 0 : w.suppressed;
  }

  /**
   * Lines of {@code kind} left out and not yet reported, which from now on count as reported: for
   * the last line of a source that ends (a closed stream) before a later line could say it.
   */
  public synchronized long drainSuppressed(String kind) {
    Window w = windows.get(kind);
    if (w == null) return 0;
    long n = w.suppressed;
    w.suppressed = 0;
    return n;
  }

  private static String describe(long nanos) {
    Duration d = Duration.ofNanos(nanos);
    return d.toSeconds() % 60 == 0 && d.toMinutes() > 0 ? d.toMinutes() + " min" : d.toMillis() + " ms";
  }
}
