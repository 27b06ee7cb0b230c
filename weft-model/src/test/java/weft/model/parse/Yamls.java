package weft.model.parse;

import java.util.List;
import weft.model.ConfigProblem;
import weft.model.Resource;
import weft.model.ResourceId;

/** Small helpers shared by the parser tests. */
final class Yamls {
  static final String FILE = "mesh/config.yaml";

  private Yamls() {}

  static ParsedFile parse(String yaml) {
    return ResourceParser.parse(FILE, yaml);
  }

  static List<ConfigProblem> errors(ParsedFile f) {
    return f.problems().stream().filter(p -> p.severity() == ConfigProblem.Severity.ERROR).toList();
  }

  static List<ConfigProblem> warnings(ParsedFile f) {
    return f.problems().stream().filter(p -> p.severity() == ConfigProblem.Severity.WARNING).toList();
  }

  static List<ResourceId> ids(ParsedFile f) {
    return f.resources().stream().map(Resource::id).toList();
  }

  /** The only resource of the file, of the given type; fails when there are errors. */
  static <T extends Resource> T only(ParsedFile f, Class<T> type) {
    if (!errors(f).isEmpty() || f.resources().size() != 1) {
      throw new AssertionError("expected one resource and no errors, got " + ids(f) + " and "
          + f.problems().stream().map(ConfigProblem::describe).toList());
    }
    return type.cast(f.resources().get(0));
  }
}
