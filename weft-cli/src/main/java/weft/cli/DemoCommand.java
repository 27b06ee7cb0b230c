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
    if (durationSeconds <= 0) {
      System.err.println("weft demo: --duration must be a positive number of seconds, got " + durationSeconds
          + " (for example --duration 28)");
      return 2;
    }
    Demo demo = new Demo(System.out, durationSeconds);
    // Ctrl-C: the hook stops the demo and deletes its files (keys included) before the JVM halts.
    Thread hook = new Thread(demo.stopper(Thread.currentThread()), "weft-demo-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      return demo.run();
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // Ctrl-C: the hook is running now
      }
    }
  }
}
