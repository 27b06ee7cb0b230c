package weft.model.parse;

import com.fasterxml.jackson.core.io.IOContext;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.ByteArrayInputStream;
import java.io.CharArrayReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.parser.ParserImpl;
import org.yaml.snakeyaml.scanner.ScannerImpl;

/**
 * Jackson's YAML factory with a reader whose cost grows linearly with the input.
 *
 * <p>SnakeYAML's own {@code StreamReader} refills its window 1024 characters at a time and copies
 * everything from the start of the current token on each refill, so one long token (a large
 * scalar, such as a base64 Secret value or a big annotation) costs time quadratic in its length:
 * 8 MB took 25 s on one core. {@link WholeInputReader} holds the whole (size-limited) input instead.
 *
 * <p>Its tokens pass through {@link GoStyleScanner}, so plain scalars mean what they mean to
 * Kubernetes' and Istio's Go tools (YAML 1.1 booleans, {@code 2001:db8::} in a flow list is a string).
 * Everything else is Jackson's and SnakeYAML's own parsing.
 */
public final class LinearYamlFactory extends YAMLFactory {
  private static final long serialVersionUID = 1L;

  public LinearYamlFactory() {
    // The builder starts from no parser features, unlike YAMLFactory(); keep the plain factory's.
    super(YAMLFactory.builder().loaderOptions(loaderOptions()).enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL));
  }

  /** SnakeYAML's safe defaults (alias, nesting limits), with a per-document size equal to the file limit. */
  private static LoaderOptions loaderOptions() {
    LoaderOptions options = new LoaderOptions();
    options.setCodePointLimit(InputLimits.MAX_FILE_BYTES);
    return options;
  }

  @Override
  protected YAMLParser _createParser(Reader r, IOContext ctxt) throws IOException {
    return new Parser(ctxt, _parserFeatures, _yamlParserFeatures, _objectCodec, r,
        new ParserImpl(new GoStyleScanner(new ScannerImpl(new WholeInputReader(r), _loaderOptions))));
  }

  @Override
  protected YAMLParser _createParser(char[] data, int offset, int len, IOContext ctxt, boolean recyclable)
      throws IOException {
    return _createParser(new CharArrayReader(data, offset, len), ctxt);
  }

  @Override
  protected YAMLParser _createParser(InputStream in, IOContext ctxt) throws IOException {
    return _createParser(new InputStreamReader(in, StandardCharsets.UTF_8), ctxt);
  }

  @Override
  protected YAMLParser _createParser(byte[] data, int offset, int len, IOContext ctxt) throws IOException {
    return _createParser(new ByteArrayInputStream(data, offset, len), ctxt);
  }

  /** Only to reach YAMLParser's constructor that takes a ready SnakeYAML parser. */
  private static final class Parser extends YAMLParser {
    Parser(IOContext ctxt, int parserFeatures, int formatFeatures,
        com.fasterxml.jackson.core.ObjectCodec codec, Reader reader, ParserImpl yamlParser) {
      super(ctxt, parserFeatures, formatFeatures, codec, reader, yamlParser);
    }
  }
}
