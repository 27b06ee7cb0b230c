package weft.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import weft.security.ca.CaTools;

/** {@code weft ca init-root} and {@code weft ca intermediate}: one root, an intermediate per cluster. */
@Command(name = "ca", mixinStandardHelpOptions = true, description = "Create a mesh root and per-cluster intermediates.",
    subcommands = {CaCommand.InitRoot.class, CaCommand.Intermediate.class})
final class CaCommand implements Runnable {
  @Override
  public void run() {
    new picocli.CommandLine(this).usage(System.out);
  }

  @Command(name = "init-root", mixinStandardHelpOptions = true,
      description = "Create a self-signed root (root-cert.pem, root-key.pem) in a new folder; never overwrites.")
  static final class InitRoot implements Callable<Integer> {
    @Option(names = "--out", required = true, description = "Folder to write the root into.")
    Path out;

    @Option(names = "--trust-domain", defaultValue = "cluster.local", description = "Default ${DEFAULT-VALUE}.")
    String trustDomain;

    @Override
    public Integer call() {
      print(CaTools.initRoot(out, trustDomain));
      return 0;
    }
  }

  @Command(name = "intermediate", mixinStandardHelpOptions = true,
      description = "Create a cluster's intermediate CA signed by the root, in Istio's file names "
          + "(ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem): give the folder to that cluster's "
          + "control plane as --ca-dir.")
  static final class Intermediate implements Callable<Integer> {
    @Option(names = "--root", required = true, description = "Folder made by init-root.")
    Path root;

    @Option(names = "--cluster", required = true, description = "The cluster's id.")
    String cluster;

    @Option(names = "--out", required = true, description = "Folder to write the intermediate into.")
    Path out;

    @Override
    public Integer call() {
      print(CaTools.intermediate(root, cluster, out));
      return 0;
    }
  }

  private static void print(List<Path> written) {
    written.forEach(p -> System.out.println("wrote " + p));
  }
}
