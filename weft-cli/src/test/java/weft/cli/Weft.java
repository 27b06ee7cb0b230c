package weft.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

/** Runs a {@code weft} command in-process through the real command tree, capturing what it prints. */
record Weft(int exit, String out, String err) {
  static Weft run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    picocli.CommandLine cl = Main.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int exit = cl.execute(args);
    return new Weft(exit, out.toString(), err.toString());
  }

  /** What went to stderr, line by line. */
  List<String> errLines() {
    return err.lines().toList();
  }
}
