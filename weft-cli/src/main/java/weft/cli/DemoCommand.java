package weft.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import weft.demo.Demo;

@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run a control plane, three echo servers and a proxyless gRPC client; shift traffic live.")
final class DemoCommand implements Callable<Integer> {
  @Option(names = "--duration", defaultValue = "28", description = "Seconds to run (default ${DEFAULT-VALUE}).")
  long durationSeconds;

  @Override
  public Integer call() throws Exception {
    Thread main = Thread.currentThread();
    Thread hook = new Thread(main::interrupt, "weft-demo-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    return new Demo(System.out, durationSeconds).run();
  }
}
