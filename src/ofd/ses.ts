// The seal signatures of the signing engine (GB/T 38540 SES_Signature, src/signing) as OFD's
// seal-signature provider and verifier: dataHash is the SM3 of the Signature.xml bytes and
// propertyInfo its absolute path (GB/T 38540 §7.2 d, as ofdrw writes it). The verifier adds what
// only the package can tell: that the signature names this Signature.xml, and that Seal.esl is
// the seal inside the signature.
import {
  parseCertificate,
  signGbt35275,
  signSesSignature,
  verifyGbt35275,
  verifySesSignature,
  type Signer,
  type Timestamper,
} from '../signing/index.js';
import {
  SM2_WITH_SM3,
  type SealSignatureProvider,
  type SealSignatureVerifier,
  type SignedValueVerdict,
} from './signatures.js';

export interface SesProviderOptions {
  /** The seal (.esl, DER, GB/T 38540 v4) the signer is listed on. */
  seal: Uint8Array;
  /** The signer's SM2 key and certificate. */
  signer: Signer;
  /** An RFC 3161 time-stamp over the signature value. */
  timestamper?: Timestamper;
}

export function sesSignatureProvider(options: SesProviderOptions): SealSignatureProvider {
  return {
    type: 'Seal',
    signatureMethod: SM2_WITH_SM3,
    seal: options.seal,
    provider: { name: 'Sigil', company: 'Sigil', version: '1.0' },
    sign: ({ data, propertyInfo, signingTime }) =>
      signSesSignature({
        seal: options.seal,
        signer: options.signer,
        data,
        propertyInfo,
        at: signingTime,
        ...(options.timestamper ? { timestamper: options.timestamper } : {}),
      }),
  };
}

export interface SignProviderOptions {
  /** The signer's SM2 key and certificate. */
  signer: Signer;
  /** Also carry the issuers' certificates in SignedValue.dat. */
  includeChain?: boolean;
}

/**
 * A digital signature without a seal (Type="Sign", GM/T 0099-2020 §7.2.2 b): SignedValue.dat is a
 * GB/T 35275 SignedData over the SM3 of Signature.xml, as ofdrw's GBT35275DSContainer writes it.
 */
export function gbt35275SignatureProvider(options: SignProviderOptions): SealSignatureProvider {
  return {
    type: 'Sign',
    signatureMethod: SM2_WITH_SM3,
    provider: { name: 'Sigil', company: 'Sigil', version: '1.0' },
    sign: ({ data }) => signGbt35275({ signer: options.signer, data, includeChain: options.includeChain }),
  };
}

/** A Type="Sign" value: GB/T 35275 over Signature.xml; the certificate is judged now (no proven time). */
function verifySign(signedValue: Uint8Array, data: Uint8Array, options: SesVerifierOptions): SignedValueVerdict {
  const verdict = verifyGbt35275(signedValue, data, {
    ...(options.trustAnchors ? { trustAnchors: options.trustAnchors } : {}),
    ...(options.intermediates ? { intermediates: options.intermediates } : {}),
    ...(options.crls ? { crls: options.crls } : {}),
  });
  if (!verdict.valid)
    return {
      status: 'invalid',
      reason: verdict.problems.join('; ') || 'the GB/T 35275 signature does not verify',
      notes: verdict.notices,
    };
  return {
    status: 'valid',
    ...(verdict.certificate ? { signer: parseCertificate(verdict.certificate).subject } : {}),
    notes: verdict.notices,
  };
}

export interface SesVerifierOptions {
  /** Roots for the signer's, the seal maker's and the TSA's paths; without them no chain is judged. */
  trustAnchors?: Buffer[];
  intermediates?: Buffer[];
  crls?: Buffer[];
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.from(a).equals(Buffer.from(b));

export function sesSignatureVerifier(options: SesVerifierOptions = {}): SealSignatureVerifier {
  return {
    verify({ type, signedValue, data, propertyInfo, seal }) {
      if (type === 'Sign') return Promise.resolve(verifySign(signedValue, data, options));
      const verdict = verifySesSignature(signedValue, {
        data,
        ...(options.trustAnchors ? { trustAnchors: options.trustAnchors } : {}),
        ...(options.intermediates ? { intermediates: options.intermediates } : {}),
        ...(options.crls ? { crls: options.crls } : {}),
      });
      const problems = [...verdict.problems];
      const signature = verdict.signature;
      if (signature) {
        const named = signature.propertyInfo.startsWith('/') ? signature.propertyInfo : '/' + signature.propertyInfo;
        if (named !== propertyInfo)
          problems.push(`the seal signature protects ${signature.propertyInfo}, not ${propertyInfo}`);
        if (seal && !sameBytes(seal, signature.seal.der))
          problems.push('Seal.esl is not the seal the signature was made with');
      }
      if (!verdict.valid || problems.length)
        return Promise.resolve({
          status: 'invalid',
          reason: problems.join('; ') || 'the seal signature does not verify',
          notes: verdict.notices,
        });
      return Promise.resolve({
        status: 'valid',
        ...(signature ? { signer: parseCertificate(signature.certificate).subject } : {}),
        ...(verdict.signingTime ? { signedAt: verdict.signingTime.toISOString() } : {}),
        notes: verdict.notices,
      });
    },
  };
}
