package weft.xds.view;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import weft.registry.ChangeEvent;

/** The part cache's own rules: one generation per key, failures never kept, bounded, carried by change events. */
class PartCacheTest {
  record Key(String name) {}

  @Test
  void aFailedGenerationIsNotKeptAndTheNextCallerGeneratesAgain() {
    PartCache cache = new PartCache();
    AtomicInteger calls = new AtomicInteger();
    assertThatThrownBy(() -> cache.forRouting(new Key("a"), () -> {
      calls.incrementAndGet();
      throw new IllegalStateException("boom");
    })).isInstanceOf(IllegalStateException.class).hasMessage("boom");
    PartCache.Part<String> part = cache.forRouting(new Key("a"), () -> {
      calls.incrementAndGet();
      return new PartCache.Part<>("ok", List.of());
    });
    assertThat(part.value()).isEqualTo("ok");
    assertThat(cache.forRouting(new Key("a"), () -> {
      throw new AssertionError("generated twice");
    }).value()).isEqualTo("ok");
    assertThat(calls).hasValue(2);
  }

  @Test
  void equalKeysShareOnePartAndDropNotesComeWithIt() {
    PartCache cache = new PartCache();
    PartCache.Part<String> first = cache.forRouting(new Key("a"),
        () -> new PartCache.Part<>("x", List.of(new PartCache.Drop("host", "why"))));
    PartCache.Part<String> second = cache.forRouting(new Key("a"), () -> new PartCache.Part<>("y", List.of()));
    assertThat(second).isSameAs(first);
    assertThat(cache.forRouting(new Key("b"), () -> new PartCache.Part<>("y", List.of())).value()).isEqualTo("y");
  }

  @Test
  void aClientCannotGrowTheRoutingBucketWithoutBound() {
    PartCache cache = new PartCache();
    for (int i = 0; i < PartCache.MAX_ROUTING * 3; i++) {
      cache.forRouting(new Key("name-" + i), () -> new PartCache.Part<>("v", List.of()));
    }
    assertThat(cache.size()).isLessThanOrEqualTo(PartCache.MAX_ROUTING);
  }

  @Test
  void routingPartsSurviveEndpointChangesButNotServiceOrConfigChanges() {
    PartCache cache = new PartCache();
    cache.forRouting(new Key("a"), () -> new PartCache.Part<>("v", List.of()));
    PartCache afterEndpoints = cache.next(new ChangeEvent(Set.of("h"), Set.of(), Set.of(), false));
    assertThat(afterEndpoints.size()).isEqualTo(1);
    assertThat(cache.next(new ChangeEvent(Set.of(), Set.of("h"), Set.of(), false)).size()).isZero();
    assertThat(cache.next(new ChangeEvent(Set.of(), Set.of(),
        Set.of(new weft.model.ResourceId("DestinationRule", "default", "r")), false)).size()).isZero();
    assertThat(cache.next(ChangeEvent.FULL).size()).isZero();
  }
}
