package weft.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import weft.demo.Demo;

@Command(name = "demo", mixinStandardHelpOptions = true, showDefaultValues = true,
    description = "Run a control plane, three echo servers and a proxyless gRPC client; shift traffic live.")
final class DemoCommand implements Callable<Integer> {
  @Option(names = "--duration", paramLabel = "SECONDS", defaultValue = "28", converter = OptionValues.Positive.class,
      description = "How long to run.")
  long durationSeconds;

  @Override
  public Integer call() throws Exception {
    Thread main = Thread.currentThread();
    Thread hook = new Thread(main::interrupt, "weft-demo-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    return new Demo(System.out, durationSeconds).run();
  }
}
