package weft.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/** What the repository's Dockerfile says, read statically (no Docker engine is needed to check it). */
record DockerfileFacts(String base, String user, String copiedJar, String jarInImage, List<String> entrypoint) {

  /** The Dockerfile's instructions, continuation lines joined and comments dropped. */
  static List<String> instructions() {
    List<String> out = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : DeployFolder.read(DeployFolder.repository().resolve("Dockerfile")).split("\n")) {
      String t = line.strip();
      if (t.startsWith("#") || (t.isEmpty() && current.length() == 0)) continue;
      if (t.endsWith("\\")) {
        current.append(t, 0, t.length() - 1).append(' ');
        continue;
      }
      current.append(t);
      if (current.length() > 0) out.add(current.toString().strip());
      current.setLength(0);
    }
    return out;
  }

  static DockerfileFacts read() {
    String base = null;
    String user = null;
    String copied = null;
    String inImage = null;
    List<String> entrypoint = List.of();
    for (String i : instructions()) {
      String[] words = i.split("\\s+");
      switch (words[0].toUpperCase()) {
        case "FROM" -> base = words[1];
        case "USER" -> user = words[1];
        case "COPY" -> {
          List<String> args = Arrays.stream(words).skip(1).filter(w -> !w.startsWith("--")).toList();
          if (args.get(0).endsWith(".jar")) {
            copied = args.get(0);
            inImage = args.get(args.size() - 1);
          }
        }
        case "ENTRYPOINT" -> {
          try {
            entrypoint = Arrays.asList(new ObjectMapper().readValue(i.substring("ENTRYPOINT".length()).strip(),
                String[].class));
          } catch (java.io.IOException e) {
            throw new AssertionError("ENTRYPOINT is not in exec (JSON) form: " + i, e);
          }
        }
        default -> { }
      }
    }
    return new DockerfileFacts(base, user, copied, inImage, entrypoint);
  }

  /**
   * The runnable jar {@code mvn package} makes, by weft-cli's pom: its artifact id and version, and
   * the shade plugin's attached classifier.
   */
  static String jarTheBuildMakes() {
    try {
      Document pom = DocumentBuilderFactory.newInstance().newDocumentBuilder()
          .parse(DeployFolder.repository().resolve("weft-cli/pom.xml").toFile());
      Element project = pom.getDocumentElement();
      String artifact = child(project, "artifactId");
      String version = child(project, "version");
      if (version == null) version = child((Element) project.getElementsByTagName("parent").item(0), "version");
      String classifier = pom.getElementsByTagName("shadedClassifierName").item(0).getTextContent().strip();
      return "weft-cli/target/" + artifact + "-" + version + "-" + classifier + ".jar";
    } catch (Exception e) {
      throw new AssertionError("weft-cli/pom.xml: " + e, e);
    }
  }

  private static String child(Element parent, String name) {
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element e && e.getTagName().equals(name)) return e.getTextContent().strip();
    }
    return null;
  }
}
