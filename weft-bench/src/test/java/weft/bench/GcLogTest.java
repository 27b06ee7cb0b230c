package weft.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class GcLogTest {
  @Test
  void peakIsTheLargestHeapInUseBeforeAnyCollectionWhateverItsUnit() {
    List<String> log = List.of(
        "[0.010s][info][gc] Using G1",
        "[1.204s][info][gc] GC(0) Pause Young (Normal) (G1 Evacuation Pause) 24M->3M(256M) 2.345ms",
        "[3.500s][info][gc] GC(1) Pause Young (Concurrent Start) (G1 Humongous Allocation) 1G->700M(1536M) 9.1ms",
        "[3.600s][info][gc] GC(1) Concurrent Mark Cycle 80.2ms",
        "[4.000s][info][gc] GC(2) Pause Full (System.gc()) 812M->96M(2048M) 40.0ms",
        "[4.100s][info][gc] GC(3) Pause Young (Normal) (G1 Evacuation Pause) 51200K->2048K(65536K) 1.0ms");

    GcLog.Peak peak = GcLog.peak(log);

    assertThat(peak.usedKb()).isEqualTo(1024 * 1024);
    assertThat(peak.committedKb()).isEqualTo(2048 * 1024);
  }

  @Test
  void aLogWithoutCollectionsHasNoPeak() {
    assertThat(GcLog.peak(List.of("[0.010s][info][gc] Using G1"))).isEqualTo(new GcLog.Peak(0, 0));
  }
}
