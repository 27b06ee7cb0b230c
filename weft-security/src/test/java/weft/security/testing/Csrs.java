package weft.security.testing;

import java.io.IOException;
import java.io.StringWriter;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** Certificate requests as a workload agent makes them: a fresh key and the names it asks for. */
public final class Csrs {
  private Csrs() {}

  public static KeyPair newKey() {
    try {
      KeyPairGenerator gen = KeyPairGenerator.getInstance("EC");
      gen.initialize(new ECGenParameterSpec("secp256r1"));
      return gen.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A PEM CSR over {@code key} asking for the URI SANs given (none: no SAN extension). */
  public static String csr(KeyPair key, String... uris) {
    List<GeneralName> names = new ArrayList<>();
    for (String u : uris) {
      names.add(new GeneralName(GeneralName.uniformResourceIdentifier, u));
    }
    return csr(key, names);
  }

  public static String csrWithDns(KeyPair key, String uri, String dns) {
    return csr(key, List.of(new GeneralName(GeneralName.uniformResourceIdentifier, uri),
        new GeneralName(GeneralName.dNSName, dns)));
  }

  public static String csr(KeyPair key, List<GeneralName> names) {
    try {
      JcaPKCS10CertificationRequestBuilder b = new JcaPKCS10CertificationRequestBuilder(new X500Name("O=test"),
          key.getPublic());
      if (!names.isEmpty()) {
        ExtensionsGenerator ext = new ExtensionsGenerator();
        ext.addExtension(Extension.subjectAlternativeName, true, new GeneralNames(names.toArray(GeneralName[]::new)));
        b.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, ext.generate());
      }
      PKCS10CertificationRequest req = b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate()));
      StringWriter out = new StringWriter();
      try (JcaPEMWriter w = new JcaPEMWriter(out)) {
        w.writeObject(req);
      }
      return out.toString();
    } catch (IOException | OperatorCreationException e) {
      throw new IllegalStateException(e);
    }
  }
}
