package weft.agent.cert;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import weft.security.ca.Pem;

/**
 * The mesh roots the workload trusts: the CA's serving certificate is checked against them, every
 * issued chain must reach one, and they are what {@code root-cert.pem} holds. A file is re-read each
 * time, so a root being replaced (old and new both listed for a while) reaches the workload.
 */
@FunctionalInterface
public interface TrustRoots {
  /**
   * The roots now; at least one.
   *
   * @throws weft.security.ca.CaException naming the file when it is missing or not PEM certificates
   */
  List<X509Certificate> roots();

  static TrustRoots file(Path pemFile) {
    Objects.requireNonNull(pemFile, "pemFile");
    return () -> Pem.readCertificates(pemFile);
  }

  static TrustRoots pem(byte[] pem) {
    List<X509Certificate> roots = Pem.parseCertificates(new String(pem, StandardCharsets.US_ASCII), null);
    return () -> roots;
  }

  static TrustRoots of(List<X509Certificate> roots) {
    if (roots.isEmpty()) {
      throw new IllegalArgumentException("no mesh root given");
    }
    List<X509Certificate> copy = List.copyOf(roots);
    return () -> copy;
  }
}
