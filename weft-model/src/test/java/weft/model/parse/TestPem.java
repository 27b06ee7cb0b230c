package weft.model.parse;

import java.io.StringWriter;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** A self-signed certificate and its key in PEM, made fresh for a test (no key material in the repository). */
record TestPem(String certificate, String key) {
  static TestPem selfSigned(String cn) {
    return selfSigned(cn, Instant.now().plus(Duration.ofDays(1)));
  }

  static TestPem selfSigned(String cn, Instant notAfter) {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
      g.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair pair = g.generateKeyPair();
      X500Name name = new X500Name("CN=" + cn);
      var holder = new JcaX509v3CertificateBuilder(name, BigInteger.ONE,
          Date.from(notAfter.minus(Duration.ofDays(2))), Date.from(notAfter), name, pair.getPublic())
          .build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate()));
      // PKCS#8 ("PRIVATE KEY"), as openssl and cert-manager write keys.
      return new TestPem(pem(holder), pem(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(pair.getPrivate(), null)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static String pem(Object o) throws java.io.IOException {
    StringWriter w = new StringWriter();
    try (JcaPEMWriter p = new JcaPEMWriter(w)) {
      p.writeObject(o);
    }
    return w.toString();
  }

  static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
  }
}
