package weft.agent.cert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import weft.agent.cert.CertificateSigner.SigningException;

/** Renewals go to whichever CA answers, the last to answer first. */
class FailoverSignerTest {
  final List<String> asked = new ArrayList<>();
  final boolean[] up = {true, true};

  CertificateSigner ca(int n) {
    return (csr, ttl) -> {
      asked.add("ca-" + n);
      if (!up[n]) throw new SigningException("ca-" + n + " unreachable");
      return List.<X509Certificate>of();
    };
  }

  @Test
  void aRenewalGoesToTheNextCaWhenOneIsDownAndStaysWithTheOneThatAnswered() throws Exception {
    FailoverSigner signer = new FailoverSigner(List.of(ca(0), ca(1)), List.of("ca-0:15012", "ca-1:15012"));
    signer.sign("csr", null);
    assertThat(asked).containsExactly("ca-0");

    up[0] = false;
    signer.sign("csr", null);
    assertThat(asked).containsExactly("ca-0", "ca-0", "ca-1");
    assertThat(signer.preferred()).isEqualTo("ca-1:15012");

    up[0] = true;
    signer.sign("csr", null);
    assertThat(asked).endsWith("ca-1");

    up[0] = false;
    up[1] = false;
    assertThatThrownBy(() -> signer.sign("csr", null)).isInstanceOf(SigningException.class)
        .hasMessageContaining("ca-0:15012: ca-0 unreachable").hasMessageContaining("ca-1:15012: ca-1 unreachable");
  }
}
