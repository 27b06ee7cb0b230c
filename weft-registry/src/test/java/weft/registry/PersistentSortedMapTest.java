package weft.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class PersistentSortedMapTest {

  @Test
  void randomUpdatesAgreeWithATreeMapAndLeaveEveryEarlierVersionAsItWas() {
    Random random = new Random(12);
    PersistentSortedMap<Integer, String> map = PersistentSortedMap.empty();
    TreeMap<Integer, String> model = new TreeMap<>();
    List<PersistentSortedMap<Integer, String>> versions = new ArrayList<>();
    List<TreeMap<Integer, String>> expected = new ArrayList<>();
    for (int step = 0; step < 5_000; step++) {
      int key = random.nextInt(700);
      if (random.nextInt(3) == 0) {
        map = map.without(key);
        model.remove(key);
      } else {
        String value = "v" + random.nextInt(5);
        map = map.with(key, value);
        model.put(key, value);
      }
      if (step % 250 == 0) {
        versions.add(map);
        expected.add(new TreeMap<>(model));
      }
      assertThat(map.size()).isEqualTo(model.size());
    }
    assertThat(map.asSortedMap()).containsExactlyEntriesOf(model);
    // An AVL tree of n keys is at most about 1.44 log2(n) high.
    assertThat(map.height()).isLessThanOrEqualTo((int) Math.ceil(1.45 * (Math.log(model.size() + 2) / Math.log(2))));
    for (int i = 0; i < versions.size(); i++) {
      assertThat(versions.get(i).asSortedMap()).containsExactlyEntriesOf(expected.get(i));
    }
  }

  @Test
  void rangeViewsMatchTheJdkSortedMap() {
    Random random = new Random(7);
    PersistentSortedMap<Integer, String> map = PersistentSortedMap.empty();
    TreeMap<Integer, String> model = new TreeMap<>();
    for (int i = 0; i < 300; i++) {
      int key = random.nextInt(1000);
      map = map.with(key, "x" + key);
      model.put(key, "x" + key);
    }
    SortedMap<Integer, String> view = map.asSortedMap();
    for (int i = 0; i < 200; i++) {
      int a = random.nextInt(1100) - 50;
      int b = a + random.nextInt(400);
      assertThat(view.subMap(a, b)).containsExactlyEntriesOf(model.subMap(a, b));
      assertThat(view.subMap(a, b).size()).isEqualTo(model.subMap(a, b).size());
      assertThat(view.headMap(a)).containsExactlyEntriesOf(model.headMap(a));
      assertThat(view.tailMap(b)).containsExactlyEntriesOf(model.tailMap(b));
      assertThat(view.get(a)).isEqualTo(model.get(a));
      if (!model.subMap(a, b).isEmpty()) {
        assertThat(view.subMap(a, b).firstKey()).isEqualTo(model.subMap(a, b).firstKey());
        assertThat(view.subMap(a, b).lastKey()).isEqualTo(model.subMap(a, b).lastKey());
      } else {
        assertThat(view.subMap(a, b)).isEmpty();
      }
    }
    assertThat(view.firstKey()).isEqualTo(model.firstKey());
    assertThat(view.lastKey()).isEqualTo(model.lastKey());
    assertThat(view).isEqualTo(model);
    assertThat(view.hashCode()).isEqualTo(model.hashCode());
    assertThat(view.comparator()).isNull();
  }

  @Test
  void theViewCannotBeChanged() {
    SortedMap<String, String> view = PersistentSortedMap.<String, String>empty().with("a", "1").asSortedMap();
    assertThatThrownBy(() -> view.put("b", "2")).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> view.remove("a")).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> view.entrySet().iterator().next().setValue("3"))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> view.keySet().clear()).isInstanceOf(UnsupportedOperationException.class);
    assertThat(view).containsExactly(Map.entry("a", "1"));
  }

  @Test
  void anUpdateThatChangesNothingReturnsTheSameMap() {
    PersistentSortedMap<String, String> map = PersistentSortedMap.<String, String>empty().with("a", "1");
    assertThat(map.with("a", "1")).isSameAs(map);
    assertThat(map.without("b")).isSameAs(map);
  }
}
