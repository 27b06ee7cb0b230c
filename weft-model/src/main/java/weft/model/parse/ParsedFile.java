package weft.model.parse;

import java.util.List;
import java.util.Map;
import weft.model.ConfigProblem;
import weft.model.Resource;
import weft.model.ResourceId;

/**
 * Result of reading one file. {@code unreadable} is true when the YAML itself could not be parsed
 * (then {@code resources} is empty and {@code problems} says why). {@code positions} says which
 * document each accepted resource came from, and {@code rejected} lists the documents left out
 * with the identity each still claims: together they let a watched file's reader tell an edit that
 * broke a resource (keep its last good version) from a deleted document (withdraw it).
 */
public record ParsedFile(String file, List<Resource> resources, List<ConfigProblem> problems, boolean unreadable,
    Map<ResourceId, String> positions, List<RejectedDocument> rejected) {
  public ParsedFile {
    resources = List.copyOf(resources);
    problems = List.copyOf(problems);
    positions = Map.copyOf(positions);
    rejected = List.copyOf(rejected);
  }

  public ParsedFile(String file, List<Resource> resources, List<ConfigProblem> problems, boolean unreadable) {
    this(file, resources, problems, unreadable, Map.of(), List.of());
  }

  /** True when any problem is an error (a rejected resource or an unreadable file). */
  public boolean hasErrors() {
    return problems.stream().anyMatch(p -> p.severity() == ConfigProblem.Severity.ERROR);
  }
}
