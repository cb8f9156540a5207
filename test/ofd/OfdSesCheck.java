// An independent check of an OFD seal signature with BouncyCastle (Debian's libbcprov-java),
// for the OFD tests: is SignedValue.dat a GB/T 38540 v4 SES_Signature whose dataHash is the SM3
// of the given Signature.xml bytes, and whose SM2 signature (ID 1234567812345678) over TBS_Sign
// verifies with the signer certificate it carries? Prints VALID or INVALID with both findings.
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.MessageDigest;
import java.security.Security;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import org.bouncycastle.asn1.ASN1BitString;
import org.bouncycastle.asn1.ASN1IA5String;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

public class OfdSesCheck {
  public static void main(String[] args) throws Exception {
    Security.addProvider(new BouncyCastleProvider());
    byte[] signatureXml = Files.readAllBytes(Paths.get(args[0]));
    ASN1Sequence ses = ASN1Sequence.getInstance(Files.readAllBytes(Paths.get(args[1])));
    if (ses.size() < 4) {
      System.out.println("UNSUPPORTED not a v4 SES_Signature");
      System.exit(3);
    }
    ASN1Sequence tbs = ASN1Sequence.getInstance(ses.getObjectAt(0));
    byte[] dataHash = ASN1BitString.getInstance(tbs.getObjectAt(3)).getOctets();
    String propertyInfo = ASN1IA5String.getInstance(tbs.getObjectAt(4)).getString();
    byte[] cert = ASN1OctetString.getInstance(ses.getObjectAt(1)).getOctets();
    byte[] value = ASN1BitString.getInstance(ses.getObjectAt(3)).getOctets();
    boolean hash = Arrays.equals(MessageDigest.getInstance("SM3", "BC").digest(signatureXml), dataHash);
    X509Certificate certificate = (X509Certificate) CertificateFactory.getInstance("X.509", "BC")
        .generateCertificate(new ByteArrayInputStream(cert));
    Signature sm2 = Signature.getInstance("SM3withSM2", "BC");
    sm2.initVerify(certificate.getPublicKey());
    sm2.update(tbs.getEncoded("DER"));
    boolean signature = sm2.verify(value);
    System.out.println((hash && signature ? "VALID" : "INVALID") + " hash=" + hash + " signature=" + signature
        + " propertyInfo=" + propertyInfo);
    System.exit(hash && signature ? 0 : 1);
  }
}
