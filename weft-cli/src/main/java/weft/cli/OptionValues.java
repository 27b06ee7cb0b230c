package weft.cli;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Checked option values. picocli reports a rejected value as one line naming the option:
 * {@code Invalid value for option '--xds-port': '70000' is not a port ...}.
 */
final class OptionValues {
  private OptionValues() {}

  /** A port to listen on or dial: 1..65535. */
  static final class Port implements ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      int port = integer(value, "a port");
      if (port < 1 || port > 65535) throw new TypeConversionException("'" + value + "' is not a port: give 1..65535");
      return port;
    }
  }

  /** A port to listen on where 0 asks the system for a free one (the process logs which it got). */
  static final class PortOrAny implements ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      int port = integer(value, "a port");
      if (port < 0 || port > 65535) {
        throw new TypeConversionException("'" + value + "' is not a port: give 1..65535, or 0 for any free port");
      }
      return port;
    }
  }

  /** A number of seconds (or any count) that must be at least 1. */
  static final class Positive implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      long n = number(value);
      if (n < 1) throw new TypeConversionException("'" + value + "' must be at least 1");
      return n;
    }
  }

  /** A number of seconds where 0 means "not at all". */
  static final class NonNegative implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      long n = number(value);
      if (n < 0) throw new TypeConversionException("'" + value + "' must be 0 or more");
      return n;
    }
  }

  /** A positive number of seconds with at most millisecond precision ({@code 7.5}); a day at most. */
  static final class Seconds implements ITypeConverter<java.time.Duration> {
    @Override
    public java.time.Duration convert(String value) {
      java.math.BigDecimal seconds;
      try {
        seconds = new java.math.BigDecimal(value.strip());
      } catch (NumberFormatException e) {
        throw new TypeConversionException("'" + value + "' is not a number of seconds: give one such as 30 or 7.5");
      }
      if (seconds.scale() > 3 || seconds.signum() <= 0 || seconds.compareTo(java.math.BigDecimal.valueOf(86400)) > 0) {
        throw new TypeConversionException("'" + value + "' must be more than 0 and at most 86400 seconds, to the "
            + "millisecond (e.g. 7.5)");
      }
      return java.time.Duration.ofMillis(seconds.movePointRight(3).longValueExact());
    }
  }

  /** {@code HOST:PORT}, as gRPC dials it ({@code [::1]:15010} for IPv6). */
  static final class HostPort implements ITypeConverter<String> {
    @Override
    public String convert(String value) {
      String s = value.strip();
      int colon = s.lastIndexOf(':');
      String host = colon < 0 ? "" : s.substring(0, colon);
      if (colon < 0 || host.isEmpty() || (host.contains(":") && !(host.startsWith("[") && host.endsWith("]")))) {
        throw new TypeConversionException("'" + value + "' is not HOST:PORT, e.g. localhost:15010 or [::1]:15010");
      }
      try {
        new Port().convert(s.substring(colon + 1));
      } catch (TypeConversionException e) {
        throw new TypeConversionException("'" + value + "' has no valid port: give HOST:PORT with a port in 1..65535");
      }
      return s;
    }
  }

  private static int integer(String value, String what) {
    try {
      return Integer.parseInt(value.strip());
    } catch (NumberFormatException e) {
      throw new TypeConversionException("'" + value + "' is not " + what + ": give a whole number");
    }
  }

  private static long number(String value) {
    try {
      return Long.parseLong(value.strip());
    } catch (NumberFormatException e) {
      throw new TypeConversionException("'" + value + "' is not a whole number");
    }
  }
}
