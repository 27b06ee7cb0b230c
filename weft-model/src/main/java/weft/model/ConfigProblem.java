package weft.model;

/**
 * One problem found in user input. {@code field} is a dotted path inside the resource
 * (e.g. {@code spec.http[0].route[1].weight}); {@code resource} may be null when a whole
 * file could not be read.
 */
public record ConfigProblem(Severity severity, String file, ResourceId resource, String field, String message) {
  public enum Severity { ERROR, WARNING }

  public static ConfigProblem error(String file, ResourceId resource, String field, String message) {
    return new ConfigProblem(Severity.ERROR, file, resource, field, message);
  }

  public static ConfigProblem warning(String file, ResourceId resource, String field, String message) {
    return new ConfigProblem(Severity.WARNING, file, resource, field, message);
  }

  /** One line for logs: {@code file: Kind ns/name: field: message}. */
  public String describe() {
    StringBuilder b = new StringBuilder();
    // A problem found across resources (a missing delegate) has no one file; it names the resource.
    b.append(file == null ? resource == null ? "<input>" : "" : file);
    if (resource != null) b.append(b.length() == 0 ? "" : ": ").append(resource);
    if (field != null && !field.isEmpty()) b.append(": field ").append(field);
    return b.append(": ").append(message).toString();
  }
}
