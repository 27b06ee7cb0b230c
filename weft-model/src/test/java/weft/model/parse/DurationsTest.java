package weft.model.parse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {
  @ParameterizedTest
  @CsvSource({
    "1s, PT1S",
    "0.5s, PT0.5S",
    "100ms, PT0.1S",
    "2m, PT2M",
    "1h, PT1H",
    "1h30m, PT1H30M",
    "250us, PT0.00025S",
    "1.000340012s, PT1.000340012S",
    "1m30s, PT1M30S",
    "10ns, PT0.00000001S",
    "0, PT0S",
    "0s, PT0S",
    ".5s, PT0.5S",
  })
  void parsesIstioDurations(String text, String expected) {
    assertThat(Durations.parse(text)).isEqualTo(Duration.parse(expected));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "abc", "5", "1.5", "5 s", "1x", "s", "1..5s", "1sm", "10d", "1h-5m"})
  void rejectsMalformed(String text) {
    assertThatThrownBy(() -> Durations.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("duration");
  }

  @ParameterizedTest
  @ValueSource(strings = {"-1s", "-0.5s", "-1h30m"})
  void rejectsNegative(String text) {
    assertThatThrownBy(() -> Durations.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("negative");
  }

  @org.junit.jupiter.api.Test
  void rejectsNullAndHugeValues() {
    assertThatThrownBy(() -> Durations.parse(null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Durations.parse("99999999999999h")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("too large");
  }
}
