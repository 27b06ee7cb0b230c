package weft.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import weft.security.ca.CaTools;

/** {@code weft ca init-root} and {@code weft ca intermediate}: one root, an intermediate per cluster. */
@Command(name = "ca", mixinStandardHelpOptions = true, showDefaultValues = true,
    description = "Create a mesh root and per-cluster intermediates.",
    subcommands = {CaCommand.InitRoot.class, CaCommand.Intermediate.class})
final class CaCommand implements FailureReporter.Group {

  @Command(name = "init-root", mixinStandardHelpOptions = true, showDefaultValues = true,
      description = "Create a self-signed root (root-cert.pem, root-key.pem) in a folder; an existing root is "
          + "never overwritten.")
  static final class InitRoot implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder to write the root into "
        + "(made if missing).")
    Path out;

    @Option(names = "--trust-domain", defaultValue = "cluster.local", description = "The mesh's trust domain.")
    String trustDomain;

    @Override
    public Integer call() {
      Paths.requireFolderOrAbsent("--out", out);
      print(spec, CaTools.initRoot(out, trustDomain));
      return 0;
    }
  }

  @Command(name = "intermediate", mixinStandardHelpOptions = true, showDefaultValues = true,
      description = "Create a cluster's intermediate CA signed by the root, in Istio's file names "
          + "(ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem): give the folder to that cluster's "
          + "control plane as --ca-dir.")
  static final class Intermediate implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--root", required = true, paramLabel = "DIR", description = "Folder made by weft ca init-root.")
    Path root;

    @Option(names = "--cluster", required = true, paramLabel = "CLUSTER_ID", description = "The cluster's id.")
    String cluster;

    @Option(names = "--out", required = true, paramLabel = "DIR",
        description = "Folder to write the intermediate into (made if missing).")
    Path out;

    @Override
    public Integer call() {
      if (cluster.isBlank()) throw new CommandFailure("--cluster is empty; give the id of the cluster this CA is for");
      if (!Files.isDirectory(root)) {
        throw new CommandFailure("--root " + root + ": no such folder; make a root with weft ca init-root --out "
            + root + ", or point --root at the folder that holds root-cert.pem and root-key.pem");
      }
      Paths.requireFolderOrAbsent("--out", out);
      print(spec, CaTools.intermediate(root, cluster, out));
      return 0;
    }
  }

  private static void print(CommandSpec spec, List<Path> written) {
    PrintWriter out = spec.commandLine().getOut();
    written.forEach(p -> out.println("wrote " + p));
    out.flush();
  }
}
