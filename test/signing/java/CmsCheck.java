// An independent checker for Sigil's national-cryptography CMS (the SM2 PDF profile) and its SM3/SM2
// time-stamp tokens, on Debian's BouncyCastle (libbcprov-java, libbcpkix-java): BouncyCastle's own
// CMS and TSP classes, its SM3withSM2 with the default user ID 1234567812345678, and its PKIX path
// validator. One line per check, "<check> VALID" or "<check> INVALID <reason>"; exit 0 only if all
// are valid.
//
//   java CmsCheck cms   <cms.der> <signed-content>          detached SignedData over the content
//   java CmsCheck tst   <token.der> <time-stamped-data>      RFC 3161 token over SM3/SHA-2 of the data
//   java CmsCheck chain <root.der> <leaf.der> [<ca.der> …]   PKIX path (no revocation) to the root
//   java CmsCheck sign  <pkcs8.der> <out.der> <content> <cert.der> [<ca.der> …]
//                       BouncyCastle's own detached CMS with SM3withSM2 (CMSSignedDataGenerator), for
//                       Sigil's verifier to read what another producer writes
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.Security;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaCertStore;
import org.bouncycastle.cms.CMSProcessableByteArray;
import org.bouncycastle.cms.CMSSignedData;
import org.bouncycastle.cms.CMSSignedDataGenerator;
import org.bouncycastle.cms.jcajce.JcaSignerInfoGeneratorBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.cms.SignerInformation;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.tsp.TimeStampToken;
import org.bouncycastle.tsp.TimeStampTokenInfo;
import org.bouncycastle.util.Selector;

public class CmsCheck {
    private static boolean allValid = true;

    public static void main(String[] args) throws Exception {
        Security.addProvider(new BouncyCastleProvider());
        switch (args[0]) {
            case "cms":
                checkCms(read(args[1]), read(args[2]));
                break;
            case "tst":
                checkToken(read(args[1]), read(args[2]));
                break;
            case "chain":
                checkChain(args);
                break;
            case "sign":
                sign(args);
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

    @SuppressWarnings("unchecked")
    private static X509CertificateHolder certOf(CMSSignedData cms, SignerInformation signer) {
        Collection<X509CertificateHolder> found = cms.getCertificates().getMatches((Selector) signer.getSID());
        return found.isEmpty() ? null : found.iterator().next();
    }

    /** SignerInformation.verify: message digest over the content, signature over the signed attributes. */
    private static void checkCms(byte[] der, byte[] content) throws Exception {
        CMSSignedData cms = new CMSSignedData(new CMSProcessableByteArray(content), der);
        for (SignerInformation signer : cms.getSignerInfos().getSigners()) {
            System.out.println("digest-algorithm " + signer.getDigestAlgOID());
            System.out.println("signature-algorithm " + signer.getEncryptionAlgOID());
            X509CertificateHolder holder = certOf(cms, signer);
            if (holder == null) {
                report("cms-signature", false, "the signer's certificate is not in the CMS");
                continue;
            }
            X509Certificate cert = new JcaX509CertificateConverter().setProvider("BC").getCertificate(holder);
            boolean ok;
            String reason = "does not verify";
            try {
                ok = signer.verify(new JcaSimpleSignerInfoVerifierBuilder().setProvider("BC").build(cert));
            } catch (Exception e) {
                ok = false;
                reason = e.getClass().getSimpleName() + ": " + e.getMessage();
            }
            report("cms-signature", ok, reason);
        }
    }

    /** TimeStampToken.validate (signature, ESS certificate binding, critical timeStamping EKU) and the imprint. */
    private static void checkToken(byte[] der, byte[] data) throws Exception {
        TimeStampToken token = new TimeStampToken(new CMSSignedData(der));
        TimeStampTokenInfo info = token.getTimeStampInfo();
        String hashOid = info.getMessageImprintAlgOID().getId();
        System.out.println("imprint-algorithm " + hashOid);
        System.out.println("token-signature-algorithm " + token.toCMSSignedData().getSignerInfos().getSigners().iterator().next().getEncryptionAlgOID());
        @SuppressWarnings("unchecked")
        Collection<X509CertificateHolder> found = token.getCertificates().getMatches((Selector) token.getSID());
        if (found.isEmpty()) {
            report("tst-signature", false, "the TSA certificate is not in the token");
            return;
        }
        X509Certificate cert = new JcaX509CertificateConverter().setProvider("BC").getCertificate(found.iterator().next());
        boolean ok = true;
        String reason = "";
        try {
            token.validate(new JcaSimpleSignerInfoVerifierBuilder().setProvider("BC").build(cert));
        } catch (Exception e) {
            ok = false;
            reason = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        report("tst-signature", ok, reason);
        String algorithm = hashOid.equals("1.2.156.10197.1.401") ? "SM3" : hashOid.equals("2.16.840.1.101.3.4.2.1") ? "SHA-256" : hashOid;
        byte[] digest = MessageDigest.getInstance(algorithm, "BC").digest(data);
        report("tst-imprint", Arrays.equals(digest, info.getMessageImprintDigest()), "the imprint is not the " + algorithm + " of the data");
    }

    /** PKIX (RFC 5280) with BouncyCastle's provider, revocation off: the chain's signatures, CA flags, validity. */
    private static void checkChain(String[] args) throws Exception {
        CertificateFactory factory = CertificateFactory.getInstance("X.509", "BC");
        X509Certificate root = (X509Certificate) factory.generateCertificate(new ByteArrayInputStream(read(args[1])));
        List<X509Certificate> path = new ArrayList<>();
        for (int i = 2; i < args.length; i++)
            path.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(read(args[i]))));
        CertPath certPath = factory.generateCertPath(path);
        PKIXParameters params = new PKIXParameters(Collections.singleton(new TrustAnchor(root, null)));
        params.setRevocationEnabled(false);
        boolean ok = true;
        String reason = "";
        try {
            CertPathValidator.getInstance("PKIX", "BC").validate(certPath, params);
        } catch (Exception e) {
            ok = false;
            reason = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        report("chain", ok, reason);
    }

    /** A detached SignedData over the content, signed SM3withSM2 by BouncyCastle with its default attributes. */
    private static void sign(String[] args) throws Exception {
        PrivateKey key = KeyFactory.getInstance("EC", "BC").generatePrivate(new PKCS8EncodedKeySpec(read(args[1])));
        CertificateFactory factory = CertificateFactory.getInstance("X.509", "BC");
        List<X509Certificate> certs = new ArrayList<>();
        for (int i = 4; i < args.length; i++)
            certs.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(read(args[i]))));
        CMSSignedDataGenerator generator = new CMSSignedDataGenerator();
        generator.addSignerInfoGenerator(new JcaSignerInfoGeneratorBuilder(
                new JcaDigestCalculatorProviderBuilder().setProvider("BC").build())
                .build(new JcaContentSignerBuilder("SM3withSM2").setProvider("BC").build(key), certs.get(0)));
        generator.addCertificates(new JcaCertStore(certs));
        byte[] der = generator.generate(new CMSProcessableByteArray(read(args[3])), false).getEncoded();
        Files.write(Paths.get(args[2]), der);
        System.out.println("signed " + der.length + " bytes");
    }
}
