package weft.model.parse;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads YAML streams into trees. Duplicate keys are refused, as Kubernetes refuses them. Input
 * over {@link InputLimits#MAX_FILE_BYTES} is refused before parsing; below it, parsing time grows
 * linearly with the size ({@link LinearYamlFactory}).
 */
final class Yaml {
  private static final ObjectReader READER = new ObjectMapper(new LinearYamlFactory())
      .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
      .readerFor(JsonNode.class);

  private Yaml() {}

  /** Thrown when the text is not YAML; the message says where and why. */
  static final class Unreadable extends Exception {
    private static final long serialVersionUID = 1L;

    Unreadable(String message) {
      super(message);
    }
  }

  /** Every document of the stream, in order; empty documents come back as null. */
  static List<JsonNode> documents(String content) throws Unreadable {
    List<JsonNode> docs = new ArrayList<>();
    if (content == null || content.isBlank()) return docs;
    if (content.length() > InputLimits.MAX_FILE_BYTES) {
      // Characters never outnumber UTF-8 bytes, so this refuses only input that is over the limit.
      throw new Unreadable("larger than " + InputLimits.describe() + ", the limit for one file or object ("
          + content.length() + " characters); split it into smaller files");
    }
    try (MappingIterator<JsonNode> it = READER.readValues(content)) {
      while (it.hasNextValue()) {
        JsonNode doc = it.nextValue();
        docs.add(doc == null || doc.isMissingNode() || doc.isNull() ? null : doc);
      }
      return docs;
    } catch (IOException | RuntimeException e) {
      throw new Unreadable(describe(e));
    }
  }

  private static String describe(Exception e) {
    Throwable t = e.getCause() instanceof JsonProcessingException && !(e instanceof JsonProcessingException)
        ? e.getCause() : e;
    String why = t instanceof JsonProcessingException j ? j.getOriginalMessage() : String.valueOf(t.getMessage());
    why = why == null ? t.getClass().getSimpleName() : why.lines().findFirst().orElse(why).strip();
    String where = "";
    if (t instanceof JsonProcessingException j && j.getLocation() != null) {
      JsonLocation loc = j.getLocation();
      if (loc.getLineNr() > 0) where = " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
    }
    return "not valid YAML" + where + ": " + why + "; fix the YAML syntax (indentation, quotes, duplicate keys)";
  }
}
