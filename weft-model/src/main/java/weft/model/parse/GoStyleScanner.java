package weft.model.parse;

import java.util.ArrayDeque;
import java.util.Deque;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.scanner.Scanner;
import org.yaml.snakeyaml.scanner.ScannerException;
import org.yaml.snakeyaml.tokens.ScalarToken;
import org.yaml.snakeyaml.tokens.Token;

/**
 * SnakeYAML's tokens, adjusted so that a document reads as Kubernetes' and Istio's Go tools read it
 * (sigs.k8s.io/yaml over go-yaml v2). Two differences matter for mesh configuration:
 *
 * <ol>
 *   <li>Inside a flow collection ({@code [...]}, <code>{...}</code>), go-yaml ends a plain scalar at
 *       {@code ": "}, but a ':' followed by ',' ']' '}' '[' or '{' is part of the scalar; SnakeYAML
 *       reads that ':' as a key indicator. So {@code [1.2.3.4, 2001:db8::]} is two strings for Go and
 *       a list holding a mapping for SnakeYAML. Such a scalar, its ':' and the key token SnakeYAML put
 *       before it are joined back into one scalar here.
 *   <li>Plain scalars are resolved with go-yaml v2's rules ({@link GoScalars}), not Jackson's, and handed
 *       on in a form Jackson reads as the same JSON value: a string as a quoted scalar, a number,
 *       boolean or null in canonical plain text. Mapping keys become the strings Go writes for them.
 * </ol>
 *
 * Tagged scalars ({@code !!str 0777}) are left to Jackson, which honours the tag as Go does.
 */
final class GoStyleScanner implements Scanner {
  private final Scanner inner;
  /** Tokens taken from {@link #inner} and handed back (looked at ahead), nearest first. */
  private final Deque<Token> pushedBack = new ArrayDeque<>();
  /** Tokens ready for the parser. */
  private final Deque<Token> ready = new ArrayDeque<>();
  private int flowLevel;
  private Token.ID lastReady;

  GoStyleScanner(Scanner inner) {
    this.inner = inner;
  }

  @Override
  public boolean checkToken(Token.ID... choices) {
    if (!fill()) return false;
    if (choices.length == 0) return true;
    Token.ID first = ready.peekFirst().getTokenId();
    for (Token.ID c : choices) {
      if (c == first) return true;
    }
    return false;
  }

  @Override
  public Token peekToken() {
    fill();
    return ready.peekFirst();
  }

  @Override
  public Token getToken() {
    fill();
    return ready.pollFirst();
  }

  @Override
  public void resetDocumentIndex() {
    inner.resetDocumentIndex();
  }

  private boolean fill() {
    while (ready.isEmpty()) {
      Token t = next();
      if (t == null) return false;
      process(t);
    }
    return true;
  }

  private Token next() {
    if (!pushedBack.isEmpty()) return pushedBack.pollFirst();
    return inner.checkToken() ? inner.getToken() : null;
  }

  private void process(Token t) {
    switch (t.getTokenId()) {
      case FlowSequenceStart, FlowMappingStart -> flowLevel++;
      case FlowSequenceEnd, FlowMappingEnd -> flowLevel = Math.max(0, flowLevel - 1);
      case Key -> {
        if (flowLevel > 0) {
          // SnakeYAML puts a key token before a scalar it then ends at "x:]"; Go reads one scalar "x:".
          Token s = next();
          if (s instanceof ScalarToken scalar && scalar.getPlain()
              && scalar.getStartMark().getIndex() == t.getStartMark().getIndex()) {
            ScalarToken joined = joinColon(scalar);
            if (joined != null) {
              emitScalar(joined);
              return;
            }
          }
          if (s != null) pushedBack.addFirst(s);
        }
      }
      case Scalar -> {
        ScalarToken scalar = (ScalarToken) t;
        if (flowLevel > 0 && scalar.getPlain()) {
          ScalarToken joined = joinColon(scalar);
          if (joined != null) scalar = joined;
        }
        emitScalar(scalar);
        return;
      }
      default -> {
        // every other token passes unchanged
      }
    }
    emit(t);
  }

  /**
   * The scalar with the ':' that follows it when Go reads that ':' as part of the scalar (it is
   * directly followed by a flow indicator); null, with nothing consumed, otherwise.
   */
  private ScalarToken joinColon(ScalarToken scalar) {
    Token value = next();
    if (value == null) return null;
    if (value.getTokenId() == Token.ID.Value
        && value.getStartMark().getIndex() == scalar.getEndMark().getIndex()
        && value.getEndMark().getIndex() == value.getStartMark().getIndex() + 1) {
      Token after = next();
      boolean flowIndicator = after != null
          && after.getStartMark().getIndex() == value.getEndMark().getIndex()
          && switch (after.getTokenId()) {
            case FlowEntry, FlowSequenceEnd, FlowMappingEnd, FlowSequenceStart, FlowMappingStart -> true;
            default -> false;
          };
      if (after != null) pushedBack.addFirst(after);
      if (flowIndicator) {
        return new ScalarToken(scalar.getValue() + ":", true, scalar.getStartMark(), value.getEndMark(),
            DumperOptions.ScalarStyle.PLAIN);
      }
    }
    pushedBack.addFirst(value);
    return null;
  }

  private void emitScalar(ScalarToken scalar) {
    if (!scalar.getPlain() || lastReady == Token.ID.Tag) {
      emit(scalar);
      return;
    }
    String text = scalar.getValue();
    if (lastReady == Token.ID.Key) {
      String key = GoScalars.key(text);
      if (key == null) {
        throw new ScannerException(null, null,
            "a null key (" + (text.isEmpty() ? "empty" : text) + ") is not allowed; Kubernetes' YAML reader refuses"
                + " it too; quote it or remove it", scalar.getStartMark());
      }
      emit(quoted(key, scalar));
      return;
    }
    GoScalars.Resolved r = GoScalars.resolve(text);
    switch (r.kind()) {
      case STRING -> emit(quoted(text, scalar));
      case NOT_JSON -> throw new ScannerException(null, null,
          text + " is a YAML float that JSON cannot hold (Kubernetes' YAML reader refuses it too); quote it to"
              + " make it a string", scalar.getStartMark());
      default -> emit(new ScalarToken(r.text(), true, scalar.getStartMark(), scalar.getEndMark(),
          DumperOptions.ScalarStyle.PLAIN));
    }
  }

  private static ScalarToken quoted(String text, ScalarToken at) {
    return new ScalarToken(text, false, at.getStartMark(), at.getEndMark(), DumperOptions.ScalarStyle.SINGLE_QUOTED);
  }

  private void emit(Token t) {
    ready.addLast(t);
    if (t.getTokenId() != Token.ID.Anchor) lastReady = t.getTokenId();
  }
}
