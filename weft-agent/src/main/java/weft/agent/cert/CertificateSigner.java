package weft.agent.cert;

import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;

/** Who signs the workload's certificate requests: the mesh CA over Istio's CSR API, or a fake in tests. */
@FunctionalInterface
public interface CertificateSigner {
  /**
   * Sends one certificate request.
   *
   * @param csrPem PEM PKCS#10 request
   * @param ttl the lifetime to ask for; null for the CA's default
   * @return the chain as the CA sent it: leaf first
   * @throws SigningException with the CA's reason when it refuses or cannot be reached
   */
  List<X509Certificate> sign(String csrPem, Duration ttl) throws SigningException;

  /** The CA did not sign: unreachable, refused, or sent something unusable. */
  final class SigningException extends Exception {
    public SigningException(String message) {
      super(message);
    }

    public SigningException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
