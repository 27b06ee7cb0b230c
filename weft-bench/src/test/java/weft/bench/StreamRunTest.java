package weft.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import org.junit.jupiter.api.Test;

class StreamRunTest {
  @Test
  void aClientWatchesTheHotServiceAndDistinctOthersUpToTheMeshSize() {
    for (int i = 0; i < 50; i++) {
      Set<Integer> watched = StreamRun.watchedServices(i, 100, 10_000, 9);
      assertThat(watched).hasSize(100).contains(9).allSatisfy(s -> assertThat(s).isBetween(0, 9_999));
    }
    assertThat(StreamRun.watchedServices(3, 100, 13, 12)).hasSize(13);
  }

  @Test
  void clientsStartTheirRunsOfServicesInDifferentPlaces() {
    assertThat(StreamRun.watchedServices(1, 10, 10_000, 0))
        .isNotEqualTo(StreamRun.watchedServices(2, 10, 10_000, 0));
  }
}
