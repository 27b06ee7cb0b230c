package weft.registry;

/**
 * What KEP-1645 says a ServiceExport's status conditions are, as the registry judged them; the
 * leader writes them into the ServiceExport when Weft is the MCS controller.
 *
 * @param invalidReason null when {@code Valid} is True, else the condition's reason
 *     ({@code ServiceNotFound}, {@code ServiceTypeNotSupported})
 * @param conflict null when {@code Conflict} is False, else why (which clusters define the ports otherwise)
 * @param message a sentence for the condition's message
 */
public record McsExportStatus(String clusterId, String namespace, String name, String invalidReason,
    String conflict, String message) implements Comparable<McsExportStatus> {
  public boolean valid() {
    return invalidReason == null;
  }

  @Override
  public int compareTo(McsExportStatus o) {
    int c = namespace.compareTo(o.namespace);
    if (c != 0) return c;
    c = name.compareTo(o.name);
    return c != 0 ? c : clusterId.compareTo(o.clusterId);
  }
}
