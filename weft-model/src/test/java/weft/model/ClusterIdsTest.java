package weft.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ClusterIdsTest {
  @ParameterizedTest
  @ValueSource(strings = {"cluster1", "Kubernetes", "east-1.prod_a", "a", "0"})
  void idsThatAreSecretDataKeysAreValid(String id) {
    assertThat(ClusterIds.problem(id)).isNull();
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "a b", "c1\nWARNING forged", "c1\r", "ns/c1", "c1:443", "\u001b[2J", "clüster"})
  void anythingElseIsRefusedWithAMessageThatIsOneSafeLine(String id) {
    String problem = ClusterIds.problem(id);
    assertThat(problem).isNotNull().doesNotContain("\n", "\r", "\u001b");
    assertThat(problem).containsAnyOf("empty", "position");
  }

  @org.junit.jupiter.api.Test
  void atMost253Characters() {
    assertThat(ClusterIds.problem("a".repeat(253))).isNull();
    assertThat(ClusterIds.problem("a".repeat(254))).contains("254 characters", "at most 253");
    assertThat(ClusterIds.quote("x".repeat(500))).hasSizeLessThan(150).contains("500 characters");
  }
}
