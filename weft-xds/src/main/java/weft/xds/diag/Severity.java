package weft.xds.diag;

import java.util.Locale;

/** How serious a finding is; the order is istioctl's (Info &lt; Warning &lt; Error). */
public enum Severity {
  INFO, WARNING, ERROR;

  /** {@code Info}, {@code warning}, {@code ERROR}, {@code warn}…; null when the text names none. */
  public static Severity parse(String text) {
    String t = text.strip().toUpperCase(Locale.ROOT);
    if (t.equals("WARN")) return WARNING;
    for (Severity s : values()) {
      if (s.name().equals(t)) return s;
    }
    return null;
  }

  /** How istioctl prints it. */
  public String label() {
    return switch (this) {
      case INFO -> "Info";
      case WARNING -> "Warning";
      case ERROR -> "Error";
    };
  }
}
