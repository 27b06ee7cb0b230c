package weft.registry;

/** Where a workload runs: region, zone, subzone; empty strings where unknown. */
public record Locality(String region, String zone, String subzone) implements Comparable<Locality> {
  public static final Locality UNKNOWN = new Locality("", "", "");

  public Locality {
    region = region == null ? "" : region;
    zone = zone == null ? "" : zone;
    subzone = subzone == null ? "" : subzone;
  }

  /** Parses Istio's {@code region/zone/subzone} form; the {@code istio-locality} label uses dots instead. */
  public static Locality parse(String text) {
    if (text == null || text.isBlank()) return UNKNOWN;
    String[] parts = text.contains("/") ? text.split("/", -1) : text.split("\\.", -1);
    return new Locality(parts[0], parts.length > 1 ? parts[1] : "", parts.length > 2 ? parts[2] : "");
  }

  @Override
  public int compareTo(Locality o) {
    return toString().compareTo(o.toString());
  }

  @Override
  public String toString() {
    return region + "/" + zone + "/" + subzone;
  }
}
