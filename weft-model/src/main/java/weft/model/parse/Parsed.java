package weft.model.parse;

import java.util.List;
import weft.model.ConfigProblem;

/** A parsed value with the problems found on the way; {@code value} is null when there were errors. */
public record Parsed<T>(T value, List<ConfigProblem> problems) {
  public Parsed {
    problems = List.copyOf(problems);
  }
}
