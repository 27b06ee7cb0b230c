package weft.model.parse;

import java.util.List;
import weft.model.ConfigProblem;
import weft.model.Resource;

/**
 * Result of reading one file. {@code unreadable} is true when the YAML itself could not be parsed
 * (then {@code resources} is empty and {@code problems} says why).
 */
public record ParsedFile(String file, List<Resource> resources, List<ConfigProblem> problems, boolean unreadable) {
  public ParsedFile {
    resources = List.copyOf(resources);
    problems = List.copyOf(problems);
  }

  /** True when any problem is an error (a rejected resource or an unreadable file). */
  public boolean hasErrors() {
    return problems.stream().anyMatch(p -> p.severity() == ConfigProblem.Severity.ERROR);
  }
}
