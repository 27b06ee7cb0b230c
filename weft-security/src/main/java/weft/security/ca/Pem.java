package weft.security.ca;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

/** Reading and writing the PEM files Istio uses for certificates and keys. */
public final class Pem {
  private Pem() {}

  /** Every certificate in a PEM file, in file order; at least one. */
  public static List<X509Certificate> readCertificates(Path file) {
    return parseCertificates(read(file), file);
  }

  /** Every certificate in PEM text; {@code source} names it in errors (may be null). */
  public static List<X509Certificate> parseCertificates(String pem, Path source) {
    List<X509Certificate> certs = new ArrayList<>();
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      Object o;
      while ((o = parser.readObject()) != null) {
        if (!(o instanceof X509CertificateHolder holder)) {
          throw new CaException(source, "holds a " + describe(o) + " where only certificates are expected");
        }
        certs.add(toX509(holder.getEncoded(), source));
      }
    } catch (IOException | RuntimeException e) {
      if (e instanceof CaException ce) {
        throw ce;
      }
      throw new CaException(source, "is not valid PEM: " + e.getMessage(), e);
    }
    if (certs.isEmpty()) {
      throw new CaException(source, "holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)");
    }
    return List.copyOf(certs);
  }

  /** The one private key in a PEM file: PKCS#8, PKCS#1 (RSA) or SEC1 (EC), unencrypted. */
  public static PrivateKey readPrivateKey(Path file) {
    return parsePrivateKey(read(file), file);
  }

  /** The one private key in PEM text; {@code file} names it in errors (may be null). */
  public static PrivateKey parsePrivateKey(String pem, Path file) {
    try (PEMParser parser = new PEMParser(new StringReader(pem))) {
      Object o = parser.readObject();
      if (o == null) {
        throw new CaException(file, "holds no PEM private key (expected -----BEGIN PRIVATE KEY-----)");
      }
      if (o instanceof PEMEncryptedKeyPair || o instanceof PKCS8EncryptedPrivateKeyInfo) {
        throw new CaException(file, "is an encrypted private key; give the key unencrypted (mode 0600)");
      }
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
      if (o instanceof PEMKeyPair pair) {
        return converter.getPrivateKey(pair.getPrivateKeyInfo());
      }
      if (o instanceof PrivateKeyInfo info) {
        return converter.getPrivateKey(info);
      }
      throw new CaException(file, "holds a " + describe(o) + " where a private key is expected");
    } catch (IOException | RuntimeException e) {
      if (e instanceof CaException ce) {
        throw ce;
      }
      throw new CaException(file, "is not a readable private key: " + e.getMessage(), e);
    }
  }

  public static String encode(X509Certificate cert) {
    try {
      return encode("CERTIFICATE", cert.getEncoded());
    } catch (java.security.cert.CertificateEncodingException e) {
      throw new IllegalStateException("cannot encode a certificate we hold", e);
    }
  }

  public static String encode(List<X509Certificate> certs) {
    StringBuilder sb = new StringBuilder();
    certs.forEach(c -> sb.append(encode(c)));
    return sb.toString();
  }

  /** PKCS#8 ("PRIVATE KEY"), which Istio and OpenSSL read for every key type. */
  public static String encodePrivateKey(PrivateKey key) {
    return encode("PRIVATE KEY", key.getEncoded());
  }

  static X509Certificate toX509(byte[] der, Path source) {
    try {
      return (X509Certificate) CertificateFactory.getInstance("X.509")
          .generateCertificate(new ByteArrayInputStream(der));
    } catch (CertificateException e) {
      throw new CaException(source, "holds a certificate that cannot be decoded: " + e.getMessage(), e);
    }
  }

  private static String encode(String type, byte[] der) {
    StringWriter out = new StringWriter();
    try (PemWriter writer = new PemWriter(out)) {
      writer.writeObject(new PemObject(type, der));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  private static String read(Path file) {
    try {
      return Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new CaException(file, "does not exist", e);
    } catch (IOException e) {
      throw new CaException(file, "cannot be read: " + e, e);
    }
  }

  private static String describe(Object o) {
    String name = o.getClass().getSimpleName();
    return switch (name) {
      case "PKCS10CertificationRequest" -> "certificate request";
      case "PEMKeyPair", "PrivateKeyInfo" -> "private key";
      case "SubjectPublicKeyInfo" -> "public key";
      default -> name;
    };
  }
}
