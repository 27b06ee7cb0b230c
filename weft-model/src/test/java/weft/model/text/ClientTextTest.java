package weft.model.text;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ClientTextTest {
  @Test
  void newlinesAndControlCharactersBecomeVisibleEscapes() {
    String forged = "bad cluster\n2026-01-01 INFO weft: all is well\r\u001b[2J\tend";
    String shown = ClientText.forLog(forged);
    assertThat(shown).isEqualTo("bad cluster\\n2026-01-01 INFO weft: all is well\\r\\u001b[2J\\tend");
    assertThat(shown).doesNotContain("\n", "\r", "\u001b", "\t");
  }

  @Test
  void aBackslashInTheInputCannotPassForAnEscapeOfOurs() {
    assertThat(ClientText.forLog("a\\nb")).isEqualTo("a\\\\nb");
  }

  @Test
  void lineSeparatorsBidiOverridesAndLoneSurrogatesAreEscapedButOrdinaryUnicodeIsKept() {
    assertThat(ClientText.forLog("x\u2028y\u202ez\ud800")).isEqualTo("x\\u2028y\\u202ez\\ud800");
    assertThat(ClientText.forLog("caf\u00e9 \ud83d\ude00")).isEqualTo("caf\u00e9 \ud83d\ude00");
    assertThat(ClientText.forLog("\u0085\u007f")).isEqualTo("\\u0085\\u007f");
  }

  @Test
  void longTextIsCutAndNamesItsSizeInBytes() {
    String big = "x".repeat(8 * 1024 * 1024);
    String shown = ClientText.forLog(big);
    assertThat(shown).isEqualTo("x".repeat(256) + "\u2026(8388608 bytes)");
  }

  @Test
  void theCutNeverSplitsAnEscapeOrASurrogatePair() {
    String shown = ClientText.forLog("abcd\n", 5);
    assertThat(shown).isEqualTo("abcd\u2026(5 bytes)");
    assertThat(ClientText.forLog("a\ud83d\ude00b", 2)).isEqualTo("a\u2026(6 bytes)");
    assertThat(ClientText.forLog("abc", 3)).isEqualTo("abc");
  }

  @Test
  void nullIsShownAsNone() {
    assertThat(ClientText.forLog(null)).isEqualTo("(none)");
  }
}
