package weft.model.parse;

import java.util.List;
import weft.model.ConfigProblem;
import weft.model.ResourceId;

/**
 * Collects the problems of one document (one resource, or one mesh config file) into a shared list,
 * so that the caller can tell afterwards whether this document alone must be rejected.
 */
final class Report {
  private final String file;
  private final ResourceId resource;
  private final List<ConfigProblem> sink;
  private int errors;

  Report(String file, ResourceId resource, List<ConfigProblem> sink) {
    this.file = file;
    this.resource = resource;
    this.sink = sink;
  }

  /** A report for the same file and list, naming another resource. */
  Report forResource(ResourceId id) {
    return new Report(file, id, sink);
  }

  void error(String field, String message) {
    errors++;
    sink.add(ConfigProblem.error(file, resource, field, message));
  }

  /**
   * An error-level problem in a resource that is still accepted: Istio accepts it, so rejecting it
   * would break the "valid Istio YAML is accepted" rule, but Weft cannot serve all it asks for and
   * serves less instead (fails closed). It is an error because traffic fails until someone acts.
   */
  void failClosed(String field, String message) {
    sink.add(ConfigProblem.error(file, resource, field, message));
  }

  void warn(String field, String message) {
    sink.add(ConfigProblem.warning(file, resource, field, message));
  }

  boolean hasErrors() {
    return errors > 0;
  }

  /** Errors reported so far: a reader compares it before and after a part to reject that part alone. */
  int errorCount() {
    return errors;
  }

  String file() {
    return file;
  }
}
