package weft.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * The sizing report as a markdown table: one row per run along one axis (services or streams),
 * each figure in its own column, and a last row saying how much each figure grew from the first
 * run to the last beside how much the axis grew — so a user reads off both the cost at a size and
 * whether it grows linearly, faster or slower.
 */
final class SizingTable {
  /** One run of the matrix: its figures, or why it has none. */
  record Row(int services, int streams, Figures figures, String failure) {
    static Row of(Figures f) {
      return new Row(f.services(), f.streams(), f, null);
    }

    static Row failed(int services, int streams, String failure) {
      return new Row(services, streams, null, failure);
    }
  }

  /** Which of the two sizes varies along the table. */
  enum Axis { SERVICES, STREAMS }

  private record Column(String title, ToDoubleFunction<Figures> value, Format format) {}

  private enum Format { DURATION, SIZE_KB, PER_PROXY_KB, COUNT }

  private static final List<Column> FIGURES = List.of(
      new Column("start-up to ready", f -> f.readyMillis(), Format.DURATION),
      new Column("all streams synced", f -> f.syncMillis(), Format.DURATION),
      new Column("live heap, no streams", f -> f.heapBeforeKb(), Format.SIZE_KB),
      new Column("live heap, streams synced", f -> f.heapWithStreamsKb(), Format.SIZE_KB),
      new Column("live heap per proxy", Figures::heapPerProxyKb, Format.PER_PROXY_KB),
      new Column("peak heap in use", f -> f.peakHeapKb(), Format.SIZE_KB),
      new Column("change → every stream, p50", Figures::everyP50Ms, Format.DURATION),
      new Column("change → every stream, p99", Figures::everyP99Ms, Format.DURATION),
      new Column("CPU per change (mean)", Figures::cpuPerChangeMs, Format.DURATION),
      new Column("/debug/status, p50", Figures::statusP50Ms, Format.DURATION),
      new Column("/debug/status, max", Figures::statusMaxMs, Format.DURATION),
      new Column("updates missed", f -> f.missed(), Format.COUNT));

  private SizingTable() {}

  /** The table for {@code rows}, in the order given (smallest first). */
  static String markdown(Axis axis, List<Row> rows) {
    StringBuilder out = new StringBuilder("| services | streams |");
    FIGURES.forEach(c -> out.append(' ').append(c.title()).append(" |"));
    out.append("\n|---:|---:|");
    FIGURES.forEach(c -> out.append("---:|"));
    out.append('\n');
    for (Row r : rows) {
      out.append(String.format("| %,d | %,d |", r.services(), r.streams()));
      if (r.figures() == null) {
        out.append(" failed: ").append(r.failure().replace('|', '/').replace('\n', ' ')).append(" |");
        out.append(" |".repeat(FIGURES.size() - 1)).append('\n');
        continue;
      }
      FIGURES.forEach(c -> out.append(' ').append(format(c.value().applyAsDouble(r.figures()), c.format()))
          .append(" |"));
      out.append('\n');
    }
    List<Figures> measured = new ArrayList<>();
    rows.stream().filter(r -> r.figures() != null).forEach(r -> measured.add(r.figures()));
    if (measured.size() >= 2) {
      Figures first = measured.get(0);
      Figures last = measured.get(measured.size() - 1);
      String servicesGrowth = axis == Axis.SERVICES ? growth(first.services(), last.services()) : "";
      String streamsGrowth = axis == Axis.STREAMS ? growth(first.streams(), last.streams()) : "";
      out.append("| ").append(servicesGrowth).append(" | ").append(streamsGrowth).append(" |");
      FIGURES.forEach(c -> out.append(' ')
          .append(growth(c.value().applyAsDouble(first), c.value().applyAsDouble(last))).append(" |"));
      out.append('\n');
    }
    return out.toString();
  }

  /** "×3.2": how many times {@code to} is {@code from}; "–" where that is not a number. */
  static String growth(double from, double to) {
    if (!(from > 0) || Double.isNaN(to)) return "–";
    return String.format("×%.1f", to / from);
  }

  private static String format(double value, Format format) {
    if (Double.isNaN(value)) return "–";
    return switch (format) {
      case DURATION -> value >= 10_000 ? String.format("%.1f s", value / 1000)
          : value < 10 ? String.format("%.1f ms", value) : String.format("%.0f ms", value);
      case COUNT -> String.format("%,d", (long) value);
      case SIZE_KB -> StreamRun.size((long) value);
      case PER_PROXY_KB -> String.format("%.1f KB", value);
    };
  }
}
