package weft.xds.diag;

/**
 * Where a resource was declared: its cluster and, for a folder of YAML, the file (relative to the
 * folder); {@code file} is null for an API server.
 */
public record ResourceOrigin(String clusterId, String file) {
  @Override
  public String toString() {
    return file == null ? "cluster " + clusterId : clusterId + ":" + file;
  }
}
