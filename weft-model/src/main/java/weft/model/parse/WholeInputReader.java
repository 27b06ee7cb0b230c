package weft.model.parse;

import java.io.IOException;
import java.io.Reader;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.reader.ReaderException;
import org.yaml.snakeyaml.reader.StreamReader;

/**
 * SnakeYAML's reader contract over the whole input held at once, so that looking ahead over a long
 * token costs nothing extra (see {@link LinearYamlFactory} for why the stock reader is quadratic).
 * Positions, lines, columns and the refusal of non-printable characters behave as in SnakeYAML 2.
 * Callers bound the input's size before it gets here.
 */
final class WholeInputReader extends StreamReader {
  private static final String NAME = "'reader'";
  private static final int BOM = 0xFEFF;

  private final int[] codePoints;
  /** Everything before this index is printable; reading at or beyond it (when short of the end) is an error. */
  private final int printableEnd;
  private int pointer;
  private int documentIndex;
  private int line;
  private int column;

  WholeInputReader(Reader reader) throws IOException {
    super(Reader.nullReader()); // the parent's window stays empty and unused
    StringBuilder text = new StringBuilder();
    char[] buffer = new char[8192];
    for (int n; (n = reader.read(buffer)) > 0; ) text.append(buffer, 0, n);
    this.codePoints = text.codePoints().toArray();
    int end = 0;
    while (end < codePoints.length && isPrintable(codePoints[end])) end++;
    this.printableEnd = end;
  }

  /** True when position {@code at} holds a character; throws when it holds a forbidden one. */
  private boolean available(int at) {
    if (at < printableEnd) return true;
    if (at < codePoints.length) {
      throw new ReaderException(NAME, printableEnd, codePoints[printableEnd], "special characters are not allowed");
    }
    return false;
  }

  @Override
  public Mark getMark() {
    return new Mark(NAME, pointer, line, column, codePoints, pointer);
  }

  @Override
  public void forward() {
    forward(1);
  }

  @Override
  public void forward(int length) {
    for (int i = 0; i < length && available(pointer); i++) {
      int c = codePoints[pointer++];
      documentIndex++;
      boolean lineBreak = c == '\n' || c == '\u0085' || c == '\u2028' || c == '\u2029'
          || (c == '\r' && available(pointer) && codePoints[pointer] != '\n');
      if (lineBreak) {
        line++;
        column = 0;
      } else if (c != BOM) {
        column++;
      }
    }
  }

  @Override
  public int peek() {
    return peek(0);
  }

  @Override
  public int peek(int index) {
    return available(pointer + index) ? codePoints[pointer + index] : '\0';
  }

  @Override
  public String prefix(int length) {
    if (length == 0) return "";
    int end = Math.min(pointer + length, codePoints.length);
    if (end <= pointer) return "";
    if (end > printableEnd) available(printableEnd);
    return new String(codePoints, pointer, end - pointer);
  }

  @Override
  public String prefixForward(int length) {
    String prefix = prefix(length);
    pointer += length;
    documentIndex += length;
    column += length;
    return prefix;
  }

  @Override
  public int getColumn() {
    return column;
  }

  @Override
  public int getDocumentIndex() {
    return documentIndex;
  }

  @Override
  public void resetDocumentIndex() {
    documentIndex = 0;
  }

  @Override
  public int getIndex() {
    return pointer;
  }

  @Override
  public int getLine() {
    return line;
  }
}
