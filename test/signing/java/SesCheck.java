// An independent checker for Sigil's SM2 signatures, GB/T 38540 seals and seal signatures, on
// Debian's BouncyCastle (libbcprov-java, libbcpkix-java): SM3withSM2 with BouncyCastle's default
// user ID (1234567812345678), structures read with BouncyCastle's own ASN.1 parser. It prints one
// line per check, "<check> VALID" or "<check> INVALID <reason>", and exits 0 only if all are valid.
//
//   java SesCheck sig  <certificate.der> <data> <signature.der>
//   java SesCheck seal <seal.esl>
//   java SesCheck ses  <SignedValue.dat> [<data>]
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
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.ASN1Primitive;
import org.bouncycastle.asn1.ASN1Sequence;
import org.bouncycastle.jce.provider.BouncyCastleProvider;

public class SesCheck {
    private static final String SM2_WITH_SM3 = "1.2.156.10197.1.501";
    private static boolean allValid = true;

    public static void main(String[] args) throws Exception {
        Security.addProvider(new BouncyCastleProvider());
        switch (args[0]) {
            case "sig":
                report("signature", verify(read(args[1]), read(args[2]), read(args[3])), "SM3withSM2 does not verify");
                break;
            case "seal":
                checkSeal(ASN1Sequence.getInstance(read(args[1])));
                break;
            case "ses":
                checkSes(read(args[1]), args.length > 2 ? read(args[2]) : null);
                break;
            default:
                throw new IllegalArgumentException("unknown check " + args[0]);
        }
        System.exit(allValid ? 0 : 1);
    }

    private static byte[] read(String path) throws Exception {
        return Files.readAllBytes(Paths.get(path));
    }

    private static void report(String check, boolean ok, String reason) {
        System.out.println(check + (ok ? " VALID" : " INVALID " + reason));
        if (!ok) allValid = false;
    }

    private static boolean verify(byte[] certificate, byte[] data, byte[] signature) throws Exception {
        X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509", "BC")
                .generateCertificate(new ByteArrayInputStream(certificate));
        Signature verifier = Signature.getInstance("SM3withSM2", "BC");
        verifier.initVerify(cert.getPublicKey());
        verifier.update(data);
        try {
            return verifier.verify(signature);
        } catch (java.security.SignatureException e) {
            return false;
        }
    }

    private static byte[] der(ASN1Encodable value) throws Exception {
        return value.toASN1Primitive().getEncoded(ASN1Encoding.DER);
    }

    /** SESeal (GB/T 38540 v4) ::= SEQUENCE { eSealInfo, cert OCTET STRING, signAlgID OID, signedValue BIT STRING } */
    private static void checkSeal(ASN1Sequence seal) throws Exception {
        if (seal.size() != 4 && seal.size() != 5) {
            report("seal-structure", false, "SESeal has " + seal.size() + " elements");
            return;
        }
        ASN1Sequence info = ASN1Sequence.getInstance(seal.getObjectAt(0));
        ASN1Sequence header = ASN1Sequence.getInstance(info.getObjectAt(0));
        System.out.println("seal-version " + header.getObjectAt(1));
        byte[] cert = ASN1OctetString.getInstance(seal.getObjectAt(1)).getOctets();
        String algorithm = ASN1ObjectIdentifier.getInstance(seal.getObjectAt(2)).getId();
        byte[] signature = ASN1BitString.getInstance(seal.getObjectAt(3)).getOctets();
        report("seal-algorithm", SM2_WITH_SM3.equals(algorithm), algorithm);
        report("seal-maker-signature", verify(cert, der(info), signature), "the maker's signature does not verify");
    }

    /** SES_Signature ::= SEQUENCE { toSign TBS_Sign, cert, signatureAlgID, signature, timeStamp [0] OPTIONAL } */
    private static void checkSes(byte[] bytes, byte[] data) throws Exception {
        ASN1Sequence ses = ASN1Sequence.getInstance(bytes);
        ASN1Sequence tbs = ASN1Sequence.getInstance(ses.getObjectAt(0));
        byte[] cert = ASN1OctetString.getInstance(ses.getObjectAt(1)).getOctets();
        byte[] signature = ASN1BitString.getInstance(ses.getObjectAt(3)).getOctets();
        report("ses-signature", verify(cert, der(tbs), signature), "the signer's signature does not verify");
        ASN1Sequence seal = ASN1Sequence.getInstance(tbs.getObjectAt(1));
        checkSeal(seal);
        // The signer's certificate must be on the seal's list (certListType 1: the certificates).
        ASN1Sequence property = ASN1Sequence.getInstance(ASN1Sequence.getInstance(seal.getObjectAt(0)).getObjectAt(2));
        boolean listed = false;
        for (ASN1Encodable entry : ASN1Sequence.getInstance(property.getObjectAt(3))) {
            ASN1Primitive item = entry.toASN1Primitive();
            if (item instanceof ASN1OctetString && Arrays.equals(((ASN1OctetString) item).getOctets(), cert)) listed = true;
        }
        report("ses-signer-listed", listed, "the signer is not on the seal's list");
        if (data != null) {
            byte[] dataHash = ASN1BitString.getInstance(tbs.getObjectAt(3)).getOctets();
            byte[] digest = MessageDigest.getInstance("SM3", "BC").digest(data);
            report("ses-data-hash", Arrays.equals(dataHash, digest), "SM3 of the data differs from dataHash");
        }
    }
}
