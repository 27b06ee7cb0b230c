package weft.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A workload process run beside {@code weft agent}, as a workload in another language would be: it
 * knows nothing of the mesh but the bootstrap file the agent wrote (its certificates and the
 * agent's local xDS proxy in it), then serves and calls as {@link NetworkWorkload} does.
 *
 * <p>Arguments: MODE (server, client, both) NAME BOOTSTRAP_FILE PORT CALL_PORT
 */
public final class AgentWorkload {
  private AgentWorkload() {}

  public static void main(String[] a) throws Exception {
    try {
      Path file = Path.of(a[2]);
      @SuppressWarnings("unchecked")
      Map<String, ?> bootstrap = (Map<String, ?>) io.grpc.internal.JsonParser.parse(Files.readString(file));
      NetworkWorkload.serveAndCall(a[0], a[1], Integer.parseInt(a[3]), Integer.parseInt(a[4]), bootstrap);
    } catch (Throwable t) {
      t.printStackTrace();
      System.exit(1);
    }
  }
}
