package weft.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OptionsTest {
  @Test
  void flagsValuesAndListsAreReadByName() {
    Options o = Options.parse(new String[] {"--delta", "--services-axis", "1000,3_000, 10000", "--changes", "30"},
        Set.of("--delta"), Set.of("--services-axis", "--changes"));

    assertThat(o.flag("--delta")).isTrue();
    assertThat(o.integers("--services-axis", List.of())).containsExactly(1000, 3000, 10000);
    assertThat(o.integer("--changes", 100)).isEqualTo(30);
    assertThat(o.integer("--warmup", 10)).isEqualTo(10);
  }

  @Test
  void anUnknownOptionOrAMissingValueStopsTheRunNamingIt() {
    assertThatThrownBy(() -> Options.parse(new String[] {"--servces", "10"}, Set.of(), Set.of("--services")))
        .hasMessageContaining("unknown option --servces").hasMessageContaining("--services");
    assertThatThrownBy(() -> Options.parse(new String[] {"--services"}, Set.of(), Set.of("--services")))
        .hasMessage("--services needs a value");
  }

  @Test
  void theControlPlaneHeapMustBeAJvmSize() {
    Options o = Options.parse(new String[] {"--cp-heap", "2g -XX:+Foo"}, Set.of(), Scenario.VALUE_OPTIONS);
    assertThatThrownBy(() -> Scenario.from(o, Scenario.Clients.PROXYLESS)).hasMessageContaining("--cp-heap");
  }
}
