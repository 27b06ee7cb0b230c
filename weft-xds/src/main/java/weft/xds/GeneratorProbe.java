package weft.xds;

/**
 * Told each time a generator starts for a proxy, with the generator's name
 * ({@code envoy-listeners}, {@code grpc-clusters}…). Production passes {@link #NONE}; tests throw
 * from it to show that a failing generator never costs a proxy what it already has.
 */
@FunctionalInterface
public interface GeneratorProbe {
  GeneratorProbe NONE = generator -> { };

  void entering(String generator);
}
