package weft.agent.cert;

import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Several CAs (control planes) for one workload: a request goes to the one that answered last, and on
 * failure to each of the others in turn, so a renewal succeeds while any of them is up. Only when all
 * fail does the request fail (and {@link CertificateManager} retries later), with every CA's reason.
 */
public final class FailoverSigner implements CertificateSigner {
  private final List<? extends CertificateSigner> signers;
  private final List<String> names;
  /** The signer that answered last; read and written by whichever thread signs (one at a time). */
  private final AtomicInteger preferred = new AtomicInteger();

  /** @param names what to call each signer in a failure ({@code host:port}), in the same order */
  public FailoverSigner(List<? extends CertificateSigner> signers, List<String> names) {
    if (signers.isEmpty() || signers.size() != names.size()) {
      throw new IllegalArgumentException("need one name per CA, and at least one CA");
    }
    this.signers = List.copyOf(signers);
    this.names = List.copyOf(names);
  }

  @Override
  public List<X509Certificate> sign(String csrPem, Duration ttl) throws SigningException {
    int first = preferred.get();
    StringBuilder reasons = new StringBuilder();
    SigningException last = null;
    for (int i = 0; i < signers.size(); i++) {
      int n = (first + i) % signers.size();
      try {
        List<X509Certificate> chain = signers.get(n).sign(csrPem, ttl);
        preferred.set(n);
        return chain;
      } catch (SigningException e) {
        last = e;
        if (signers.size() > 1) reasons.append(reasons.length() == 0 ? "" : "; ").append(names.get(n)).append(": ");
        reasons.append(e.getMessage());
      }
    }
    throw new SigningException(signers.size() == 1 ? reasons.toString() : "no CA signed: " + reasons, last);
  }

  /** The name of the CA asked first next time (the one that answered last). */
  public String preferred() {
    return names.get(preferred.get());
  }
}
