package weft.model.parse;

import java.util.Collection;
import java.util.Locale;

/** Suggests the field a typo was meant to be ("weigth" → "weight"). */
final class Spelling {
  /** More than two edits away, a suggestion is more likely to confuse than to help. */
  private static final int MAX_EDITS = 2;

  private Spelling() {}

  /** The candidate closest to {@code word}, or null when none is within two edits. */
  static String closest(String word, Collection<String> candidates) {
    return closest(word, candidates, MAX_EDITS);
  }

  /** The candidate closest to {@code word}, or null when none is within {@code maxEdits}. */
  static String closest(String word, Collection<String> candidates, int maxEdits) {
    String best = null;
    int bestDistance = Math.min(maxEdits, MAX_EDITS) + 1;
    String w = word.toLowerCase(Locale.ROOT);
    for (String c : candidates) {
      int d = distance(c.toLowerCase(Locale.ROOT), w);
      if (d < bestDistance) {
        bestDistance = d;
        best = c;
      }
    }
    return best;
  }

  /** Levenshtein distance. */
  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) prev[j] = j;
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
