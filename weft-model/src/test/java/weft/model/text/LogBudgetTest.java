package weft.model.text;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class LogBudgetTest {
  private final AtomicLong now = new AtomicLong(1_000);
  private final LogBudget budget = new LogBudget(3, Duration.ofMinutes(1), now::get);

  @Test
  void aBurstWritesTheFirstLinesOfAWindowAndCountsTheRest() {
    List<String> written = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      String suffix = budget.admit("nack");
      if (suffix != null) written.add(suffix);
    }
    assertThat(written).containsExactly("", "", "");
    assertThat(budget.suppressed("nack")).isEqualTo(9_997);
  }

  @Test
  void theFirstLineOfTheNextWindowSaysHowManyWereLeftOut() {
    for (int i = 0; i < 5; i++) budget.admit("nack");
    now.addAndGet(Duration.ofSeconds(59).toNanos());
    assertThat(budget.admit("nack")).as("still the same window").isNull();
    now.addAndGet(Duration.ofSeconds(1).toNanos());
    assertThat(budget.admit("nack")).isEqualTo(" (3 more like this not logged; at most 3 per 1 min)");
    assertThat(budget.suppressed("nack")).isZero();
    assertThat(budget.admit("nack")).isEmpty();
  }

  @Test
  void kindsHaveTheirOwnBudgets() {
    for (int i = 0; i < 5; i++) budget.admit("nack");
    assertThat(budget.admit("unknown-type")).isEmpty();
  }

  @Test
  void whatWasLeftOutCanBeReportedOnceWhenTheSourceEnds() {
    for (int i = 0; i < 5; i++) budget.admit("nack");
    assertThat(budget.drainSuppressed("nack")).isEqualTo(2);
    assertThat(budget.drainSuppressed("nack")).isZero();
    assertThat(budget.drainSuppressed("never seen")).isZero();
  }
}
