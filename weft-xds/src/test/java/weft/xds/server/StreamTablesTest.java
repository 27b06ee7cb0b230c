package weft.xds.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.StringValue;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import weft.xds.Generated;

/** The per-stream tables: sorted, immutable, and sharing one instance of each name between streams. */
class StreamTablesTest {
  @Test
  void twoStreamsSubscribingToTheSameNamesHoldOneInstanceOfEach() {
    NameSet a = NameSet.of(List.of(new String("outbound|80||b.default"), new String("outbound|80||a.default")));
    NameSet b = NameSet.EMPTY.plus(List.of(new String("outbound|80||a.default")));
    assertThat(a.asList()).containsExactly("outbound|80||a.default", "outbound|80||b.default");
    assertThat(b.asList().get(0)).isSameAs(a.asList().get(0));
    assertThat(a.chars()).isEqualTo(44);
  }

  @Test
  void aRequestsNamesAreComparedInOrderOnTheirUtf8Bytes() {
    NameSet set = NameSet.of(List.of("outbound|80||a.default", "outbound|80||b.default"));
    List<com.google.protobuf.ByteString> sameOrder = List.of(com.google.protobuf.ByteString.copyFromUtf8(
        "outbound|80||a.default"), com.google.protobuf.ByteString.copyFromUtf8("outbound|80||b.default"));
    assertThat(set.sameInOrder(sameOrder)).isTrue();
    assertThat(set.sameInOrder(List.of(sameOrder.get(1), sameOrder.get(0)))).isFalse();
    assertThat(NameSet.sameInOrder(List.of(sameOrder.get(1), sameOrder.get(0)),
        new String[] {"outbound|80||b.default", "outbound|80||a.default"})).isTrue();
    // Non-ASCII text compares by its decoded characters, whatever the byte count.
    assertThat(NameSet.sameText(com.google.protobuf.ByteString.copyFromUtf8("caf\u00e9"), "caf\u00e9")).isTrue();
    assertThat(NameSet.sameText(com.google.protobuf.ByteString.copyFromUtf8("cafe"), "caf\u00e9")).isFalse();
    assertThat(NameSet.sameText(com.google.protobuf.ByteString.copyFromUtf8("caf\u00e9"), "cafe")).isFalse();
    assertThat(NameSet.sameText(com.google.protobuf.ByteString.copyFromUtf8("x\uD83D\uDE00"), "x\uD83D\uDE00")).isTrue();
  }

  @Test
  void anEndpointUpdateOfHeldNamesKeepsTheVersionAPureFunctionOfContent() {
    SentTable t = SentTable.EMPTY.with(new TreeMap<>(Map.of("a", 1L, "b", 2L)), Set.of());
    SentTable updated = t.with(new TreeMap<>(Map.of("b", 3L)), Set.of());
    SentTable fresh = SentTable.EMPTY.with(new TreeMap<>(Map.of("a", 1L, "b", 3L)), Set.of());
    assertThat(updated).isEqualTo(fresh);
    assertThat(updated.version()).isEqualTo(fresh.version()).isNotEqualTo(t.version());
    assertThat(updated.with(new TreeMap<>(Map.of("b", 2L)), Set.of()).version()).isEqualTo(t.version());
  }

  @Test
  void addingNothingNewOrRemovingNothingHeldKeepsTheSameSet() {
    NameSet a = NameSet.of(List.of("x", "y"));
    assertThat(a.plus(List.of("y", "x"))).isSameAs(a);
    assertThat(a.minus(List.of("z"))).isSameAs(a);
    assertThat(a.minus(List.of("x")).asList()).containsExactly("y");
    assertThat(a.minus(List.of("x")).chars()).isEqualTo(1);
  }

  @Test
  void aSentTableMergesUpdatesAndRemovalsInNameOrder() {
    SentTable t = SentTable.EMPTY.with(new TreeMap<>(Map.of("b", 2L, "d", 4L)), Set.of());
    SentTable next = t.with(new TreeMap<>(Map.of("a", 1L, "b", 20L, "c", 3L)), Set.of("d"));
    assertThat(names(next)).containsExactly("a", "b", "c");
    assertThat(next.holds("b", 20L)).isTrue();
    assertThat(next.holds("b", 2L)).isFalse();
    assertThat(next.contains("d")).isFalse();
    assertThat(t.holds("b", 2L)).as("the old table is unchanged").isTrue();
    assertThat(next.retainedIn(NameSet.of(List.of("c", "z"))).size()).isEqualTo(1);
  }

  @Test
  void theVersionDependsOnlyOnNamesAndContent() {
    Generated one = Generated.of(Any.pack(StringValue.of("one")));
    Generated two = Generated.of(Any.pack(StringValue.of("two")));
    SentTable a = SentTable.EMPTY.replacedBy(new TreeMap<>(Map.of("r", one)));
    SentTable sameContent = SentTable.EMPTY.with(new TreeMap<>(Map.of("r", one.hash())), Set.of());
    SentTable other = SentTable.EMPTY.replacedBy(new TreeMap<>(Map.of("r", two)));
    assertThat(a).isEqualTo(sameContent);
    assertThat(a.version()).isEqualTo(sameContent.version()).isNotEqualTo(other.version());
    assertThat(SentTable.EMPTY.replacedBy(new TreeMap<>(Map.of("s", one))).version()).isNotEqualTo(a.version());
  }

  static List<String> names(SentTable t) {
    List<String> out = new java.util.ArrayList<>();
    for (int i = 0; i < t.size(); i++) out.add(t.name(i));
    return out;
  }
}
