package weft.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SizingTableTest {
  private static Figures figures(int services, int streams, long heapWithKb, double p99Ms) {
    return new Figures(services, streams, 2_000, 12_500, 100 * 1024, heapWithKb, 900 * 1024, 40, p99Ms, 25, 3.5,
        8, 0);
  }

  @Test
  void eachRunIsARowAndTheLastRowIsHowEachFigureGrew() {
    String table = SizingTable.markdown(SizingTable.Axis.SERVICES, List.of(
        SizingTable.Row.of(figures(1_000, 100, 100 * 1024 + 100 * 50, 80)),
        SizingTable.Row.of(figures(10_000, 100, 100 * 1024 + 100 * 400, 200))));

    List<String> lines = table.lines().toList();
    assertThat(lines).hasSize(5);
    int columns = lines.get(0).split("\\|", -1).length;
    assertThat(lines).allSatisfy(l -> assertThat(l.split("\\|", -1)).hasSize(columns));
    assertThat(lines.get(2)).startsWith("| 1,000 | 100 | 2000 ms | 12.5 s | 100 MB |").contains("| 50.0 KB |")
        .contains("| 80 ms |").contains("| 3.5 ms |");
    assertThat(lines.get(3)).startsWith("| 10,000 | 100 |").contains("| 400.0 KB |").contains("| 200 ms |");
    // services ×10; heap per proxy 50 → 400 KB is ×8.0, p99 80 → 200 ms is ×2.5, no updates missed in either
    assertThat(lines.get(4)).startsWith("| ×10.0 |  | ×1.0 | ×1.0 |").contains("| ×8.0 |").contains("| ×2.5 |")
        .endsWith("| – |");
  }

  @Test
  void aFailedRunIsARowThatSaysWhyAndIsLeftOutOfTheGrowth() {
    String table = SizingTable.markdown(SizingTable.Axis.STREAMS, List.of(
        SizingTable.Row.of(figures(1_000, 100, 110 * 1024, 80)),
        SizingTable.Row.failed(1_000, 2_000, "stream 7 did not sync | within 600 s")));

    List<String> lines = table.lines().toList();
    assertThat(lines).hasSize(4);
    assertThat(lines.get(3)).startsWith("| 1,000 | 2,000 | failed: stream 7 did not sync / within 600 s |");
    assertThat(lines.get(3).split("\\|", -1)).hasSize(lines.get(0).split("\\|", -1).length);
  }
}
