// The signing engine's public surface: what the API, the console and the CLI use. No database,
// no HTTP server: storage of keys, certificates and CRLs belongs to the modules that call this.
export { SigningError, type SigningErrorCode } from './errors.js';
export type { KeySigner, Signer, KeyType, SignatureAlgorithm } from './signer.js';
export { createKeySigner, withCertificate, signerFromPkcs8, signerFromPem, orderChain, fingerprint } from './signer.js';
export { signatureHashOf } from './signer.js';
export type { SignatureHash } from './oids.js';
export { SM2_DEFAULT_ID, sm3, verifySm2 } from './sm2.js';
export {
  decodeSeal,
  verifySeal,
  issueSealFile,
  isListedSigner,
  SEAL_LIMITS,
  type DecodedSeal,
  type SealVersion,
  type SealPicture,
  type SealPictureType,
  type SealExtension,
  type CertDigest,
  type IssueSealInput,
  type SealCheckOptions,
  type SealVerdict,
} from './ses/seal.js';
export {
  decodeSesSignature,
  signSesSignature,
  verifySesSignature,
  SES_SIGNATURE_LIMITS,
  type DecodedSesSignature,
  type SignSesSignatureInput,
  type SesVerifyOptions,
  type SesSignatureVerdict,
} from './ses/signature.js';
export {
  signGbt35275,
  verifyGbt35275,
  type SignGbt35275Input,
  type Gbt35275VerifyOptions,
  type Gbt35275Verdict,
} from './gbt35275.js';
export { readPkcs12, writePkcs12, signerFromPkcs12 } from './pkcs12.js';
export { openPkcs11Signer, openPkcs11KeySigner, type Pkcs11Options, type Pkcs11Signer } from './pkcs11-signer.js';
export {
  generateKey,
  createRootCa,
  createIssuingCa,
  issueSealCertificate,
  issuePersonCertificate,
  issueTsaCertificate,
  issueCertificate,
  createCrl,
  randomSerial,
  REVOCATION_REASON,
  type KeySpec,
  type NameSpec,
  type RevocationReason,
} from './ca.js';
export {
  respondToTimeStampRequest,
  createInProcessTimestamper,
  createHttpTimestamper,
  checkTimestampToken,
  DEFAULT_TSA_POLICY,
  type Timestamper,
  type TimeStampAuthority,
} from './tsa.js';
export {
  signPdf,
  addValidationData,
  addDocumentTimestamp,
  staticRevocationSource,
  PADES_LEVELS,
  PDF_SIGNATURE_PROFILES,
  type PadesLevel,
  type PdfSignatureProfile,
  type SignPdfOptions,
  type VisibleAppearance,
  type CrossPageAppearance,
  type StampAppearance,
  MAX_STAMPS,
  type RevocationSource,
} from './pades.js';
export { createPdfSigningPool, defaultSigningWorkers, type PdfSigningPool } from './pdf-sign-pool.js';
export { httpRevocationSource, crlDistributionPoints } from './revocation.js';
export { prepareImage, type PreparedImage } from './pdf/image.js';
export {
  verifyPdf,
  sha256Of,
  sha256OfFile,
  readPdfFile,
  type VerificationReport,
  type SignatureReport,
  type VerifyOptions,
} from './verify.js';
export { parseCertificate, parseCrl, derToPem, pemToDer } from './x509.js';
export type { PdfLimits } from './pdf/parser.js';
export { describePages, type PageBox } from './pdf-pages.js';
export {
  createKeyVault,
  createSoftwareVault,
  createPkcs11Vault,
  type KeyVault,
  type KeyReference,
  type Pkcs11VaultOptions,
} from './key-vault.js';
export { generatePkcs11KeyPair } from './pkcs11-signer.js';
