package weft.model.text;

/**
 * Text that a client sent (a NACK's error detail, a node id, a type URL, a header), made safe for
 * one log line. Anyone who can open a stream chooses these bytes: written as they come, a newline
 * forges a log line of the attacker's choosing, an escape sequence rewrites the operator's
 * terminal, and an 8 MB detail becomes an 8 MB line. So control characters, line and paragraph
 * separators and bidirectional overrides are shown as escapes ({@code \n}, {@code \u001b}); the
 * backslash itself is doubled so that an escape in the output is always ours; and the result is cut
 * after a limit with the original's size appended.
 */
public final class ClientText {
  /** Enough for any real NACK reason's first line and any Istio node id. */
  public static final int DEFAULT_LIMIT = 256;
  private static final String ELLIPSIS = "\u2026";

  private ClientText() {}

  /** {@link #forLog(String, int)} with {@link #DEFAULT_LIMIT}. */
  public static String forLog(String text) {
    return forLog(text, DEFAULT_LIMIT);
  }

  /**
   * The text escaped; when that is longer than {@code limit} characters, its first {@code limit}
   * characters (never half an escape or a surrogate pair) and {@code …(N bytes)}, N being the
   * original's UTF-8 size. Null is {@code (none)}.
   */
  public static String forLog(String text, int limit) {
    if (text == null) return "(none)";
    StringBuilder out = new StringBuilder(Math.min(text.length(), limit) + 24);
    int i = 0;
    for (; i < text.length(); i++) {
      char c = text.charAt(i);
      String piece = escape(text, i);
      int before = out.length();
      if (piece == null) {
        out.append(c);
        if (Character.isHighSurrogate(c)) out.append(text.charAt(++i));
      } else {
        out.append(piece);
      }
      if (out.length() > limit) {
        out.setLength(before);
        break;
      }
    }
    if (i < text.length()) {
      out.append(ELLIPSIS).append('(').append(utf8Length(text)).append(" bytes)");
    }
    return out.toString();
  }

  /** The escape for the character at {@code i}, or null when it is written as it is. */
  private static String escape(String text, int i) {
    char c = text.charAt(i);
    switch (c) {
      case '\n':
        return "\\n";
      case '\r':
        return "\\r";
      case '\t':
        return "\\t";
      case '\\':
        return "\\\\";
      default:
        break;
    }
    if (Character.isHighSurrogate(c)) {
      return i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1)) ? null : unicode(c);
    }
    if (Character.isLowSurrogate(c) || needsEscape(c)) return unicode(c);
    return null;
  }

  private static boolean needsEscape(char c) {
    // C0 and C1 controls and DEL; U+2028/2029 end a line in many viewers; U+200E/200F, U+202A-202E
    // and U+2066-2069 reorder what a terminal shows ("Trojan Source").
    return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029' || c == '\u200e'
        || c == '\u200f' || (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069');
  }

  private static String unicode(char c) {
    return String.format("\\u%04x", (int) c);
  }

  private static long utf8Length(String s) {
    long n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n += 1;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        n += 4;
        i++;
      } else {
        n += 3; // a lone surrogate is written as U+FFFD, three bytes
      }
    }
    return n;
  }
}
