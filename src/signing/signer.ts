// The Signer interface: everything that produces signatures (software keys, keys sealed in the
// database, PKCS#11 tokens) looks the same to the CA, the TSA and the PDF signer. Private keys
// never leave a Signer (Invariant 6).
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  constants,
  type KeyObject,
} from 'node:crypto';
import { SigningError } from './errors.js';
import { AsnConvert } from '@peculiar/asn1-schema';
import { RsaSaPssParams } from '@peculiar/asn1-rsa';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { encode } from './asn1.js';
import { HASH_OID, NODE_HASH, OID, type HashName, type SignatureHash } from './oids.js';
import { signSm2, sm2KeyOf } from './sm2.js';
import { parseCertificate, pemToDer } from './x509.js';

export type KeyType = 'RSA' | 'EC' | 'SM2';
/** 'SM2' is SM2 with SM3 and the standard user ID (GB/T 32918.2, GB/T 35276). */
export type SignatureAlgorithm = 'RSASSA-PKCS1-v1_5' | 'RSA-PSS' | 'ECDSA' | 'SM2';

/** A private key that can sign, with its public half. Certificate authorities start from one. */
export interface KeySigner {
  readonly keyType: KeyType;
  readonly algorithm: SignatureAlgorithm;
  /** SubjectPublicKeyInfo, DER. */
  readonly publicKey: Buffer;
  /**
   * Signs `data` (hashed with `hash` inside the signer). ECDSA and SM2 signatures are DER
   * `SEQUENCE { r, s }`, as X.509, CMS and GB/T 38540 carry them. An SM2 signer hashes with
   * SM3 only and refuses any other hash.
   */
  sign(data: Uint8Array, hash: SignatureHash): Promise<Buffer>;
}

/** A KeySigner with its certificate: what signs documents, time-stamps and certificates. */
export interface Signer extends KeySigner {
  /** The signer's certificate, DER. */
  readonly certificate: Buffer;
  /** The issuers, nearest first (may end with the root), DER. */
  readonly chain: Buffer[];
}

/** AlgorithmIdentifier for a signature by `signer` with `hash` (RFC 4055, RFC 5758). */
const algorithmIds = new Map<string, Buffer>();

export function signatureAlgorithmId(signer: Pick<KeySigner, 'algorithm'>, hash: SignatureHash): Buffer {
  const key = `${signer.algorithm}:${hash}`;
  let id = algorithmIds.get(key);
  if (!id) {
    id = encodeSignatureAlgorithm(signer.algorithm, hash);
    algorithmIds.set(key, id);
  }
  return id;
}

function encodeSignatureAlgorithm(algorithm: SignatureAlgorithm, hash: SignatureHash): Buffer {
  const signer = { algorithm };
  if ((signer.algorithm === 'SM2') !== (hash === 'SM3'))
    throw new SigningError('signing_key_invalid', 'SM2 keys sign with SM3, and SM3 goes with SM2 keys only.');
  // GB/T 33560: SM2-with-SM3 carries no parameters (as the certificates of Chinese CAs write it).
  if (signer.algorithm === 'SM2') return encode(new AlgorithmIdentifier({ algorithm: OID.sm2WithSm3 }));
  if (hash === 'SM3') throw new SigningError('signing_key_invalid', 'SM3 goes with SM2 keys only.');
  if (signer.algorithm === 'ECDSA') {
    const id =
      hash === 'SHA-256' ? OID.ecdsaWithSha256 : hash === 'SHA-384' ? OID.ecdsaWithSha384 : OID.ecdsaWithSha512;
    // RFC 5758 §3.2: the parameters are absent for ECDSA.
    return encode(new AlgorithmIdentifier({ algorithm: id }));
  }
  if (signer.algorithm === 'RSA-PSS') {
    const hashAlgorithm = new AlgorithmIdentifier({ algorithm: HASH_OID[hash], parameters: null });
    const params = new RsaSaPssParams({
      hashAlgorithm,
      maskGenAlgorithm: new AlgorithmIdentifier({
        algorithm: OID.mgf1,
        parameters: AsnConvert.serialize(hashAlgorithm),
      }),
      saltLength: hash === 'SHA-256' ? 32 : hash === 'SHA-384' ? 48 : 64,
    });
    return encode(new AlgorithmIdentifier({ algorithm: OID.rsassaPss, parameters: AsnConvert.serialize(params) }));
  }
  const id = hash === 'SHA-256' ? OID.sha256WithRSA : hash === 'SHA-384' ? OID.sha384WithRSA : OID.sha512WithRSA;
  return encode(new AlgorithmIdentifier({ algorithm: id, parameters: null }));
}

/** The hash a signer signs with: SM3 for SM2 keys, else the one `preferredHash` chooses. */
export function signatureHashOf(signer: Pick<KeySigner, 'keyType' | 'publicKey'>): SignatureHash {
  return signer.keyType === 'SM2' ? 'SM3' : preferredHash(signer);
}

/** The hash that fits a key: SHA-256 for RSA and P-256, larger for larger curves. */
export function preferredHash(signer: Pick<KeySigner, 'keyType' | 'publicKey'>): HashName {
  if (signer.keyType === 'EC') {
    const curve = createPublicKey({ key: signer.publicKey, format: 'der', type: 'spki' }).asymmetricKeyDetails
      ?.namedCurve;
    if (curve === 'secp384r1') return 'SHA-384';
    if (curve === 'secp521r1') return 'SHA-512';
  }
  return 'SHA-256';
}

function keyTypeOf(key: KeyObject): Exclude<KeyType, 'SM2'> {
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') return 'RSA';
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1' || curve === 'secp384r1' || curve === 'secp521r1') return 'EC';
    throw new SigningError(
      'signing_key_invalid',
      `EC curve ${curve ?? 'unknown'} is not supported; use P-256, P-384 or P-521.`,
    );
  }
  throw new SigningError(
    'signing_key_invalid',
    `${key.asymmetricKeyType ?? 'unknown'} keys are not supported; use RSA (2048 or 3072 bits), ECDSA P-256 or SM2.`,
  );
}

/**
 * A signer over a private key held in this process. node:crypto's callback form runs the
 * private-key operation on libuv's thread pool, so concurrent signatures use every core.
 */
export function createKeySigner(privateKey: KeyObject, options: { pss?: boolean } = {}): KeySigner {
  if (privateKey.type !== 'private') throw new SigningError('signing_key_invalid', 'A private key is required.');
  const sm2Key = sm2KeyOf(privateKey);
  if (sm2Key) return createSm2KeySigner(sm2Key);
  const keyType = keyTypeOf(privateKey);
  const algorithm: SignatureAlgorithm = keyType === 'EC' ? 'ECDSA' : options.pss ? 'RSA-PSS' : 'RSASSA-PKCS1-v1_5';
  const publicKey = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const keyOptions =
    algorithm === 'ECDSA'
      ? { key: privateKey, dsaEncoding: 'der' as const }
      : algorithm === 'RSA-PSS'
        ? { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
        : { key: privateKey };
  return {
    keyType,
    algorithm,
    publicKey,
    sign: (data, hash) =>
      new Promise((resolve, reject) => {
        if (hash === 'SM3')
          return reject(new SigningError('signing_key_invalid', `${keyType} keys do not sign with SM3.`));
        cryptoSign(NODE_HASH[hash], data, keyOptions, (error, signature) =>
          error ? reject(error) : resolve(signature),
        );
      }),
  };
}

/**
 * An SM2 signer (GB/T 32918.2 with the standard user ID). The arithmetic runs in JavaScript on
 * this thread (about a millisecond); Node's SM2 cannot set the ID.
 */
function createSm2KeySigner(key: { d: bigint; point: Buffer; spki: Buffer }): KeySigner {
  return {
    keyType: 'SM2',
    algorithm: 'SM2',
    // id-ecPublicKey with the SM2 curve (GB/T 33560), the uncompressed point: as Node exports it.
    publicKey: key.spki,
    sign: async (data, hash) => {
      if (hash !== 'SM3') throw new SigningError('signing_key_invalid', `SM2 keys sign with SM3, not ${hash}.`);
      return signSm2(key, data);
    },
  };
}

/** Attaches a certificate chain to a key signer, refusing a certificate that is not the key's. */
export function withCertificate(keySigner: KeySigner, certificate: Buffer, chain: Buffer[] = []): Signer {
  const cert = parseCertificate(certificate);
  if (!cert.spki.equals(keySigner.publicKey)) {
    throw new SigningError(
      'signing_key_invalid',
      `The private key does not belong to the certificate of ${cert.subject}.`,
    );
  }
  for (const der of chain) parseCertificate(der);
  return Object.freeze({
    keyType: keySigner.keyType,
    algorithm: keySigner.algorithm,
    publicKey: keySigner.publicKey,
    sign: (data: Uint8Array, hash: SignatureHash) => keySigner.sign(data, hash),
    certificate,
    chain: orderChain(certificate, chain),
  });
}

/** Puts the issuers in order, nearest first, dropping the signer's own certificate and duplicates. */
export function orderChain(certificate: Buffer, chain: Buffer[]): Buffer[] {
  const pool = chain.filter((c, i) => !c.equals(certificate) && chain.findIndex((d) => d.equals(c)) === i);
  const ordered: Buffer[] = [];
  let current = parseCertificate(certificate);
  while (pool.length > 0) {
    const index = pool.findIndex((c) => parseCertificate(c).subjectDer.equals(current.issuerDer));
    if (index < 0) break;
    const [next] = pool.splice(index, 1);
    ordered.push(next!);
    current = parseCertificate(next!);
    if (current.subjectDer.equals(current.issuerDer)) break;
  }
  return [...ordered, ...pool];
}

/**
 * The constructor the database-backed key store will use: a decrypted PKCS#8 private key (DER)
 * with its certificate and chain (DER).
 */
export function signerFromPkcs8(input: {
  pkcs8: Buffer;
  certificate: Buffer;
  chain?: Buffer[];
  pss?: boolean;
}): Signer {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: input.pkcs8, format: 'der', type: 'pkcs8' });
  } catch {
    throw new SigningError('signing_key_invalid', 'The private key is not a readable PKCS#8 key.');
  }
  return withCertificate(createKeySigner(key, { pss: input.pss }), input.certificate, input.chain ?? []);
}

/** A signer from PEM text: a private key (optionally encrypted) and one or more certificates, the signer's first. */
export function signerFromPem(input: { key: string; certificates: string; passphrase?: string }): Signer {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: input.key, format: 'pem', passphrase: input.passphrase });
  } catch (error) {
    const message = error instanceof Error ? error.message : '';
    if (/bad decrypt|passphrase|password/i.test(message))
      throw new SigningError('key_password_invalid', 'The passphrase of the private key is wrong.');
    throw new SigningError('signing_key_invalid', 'The private key is not readable PEM.');
  }
  const certs = pemToDer(input.certificates, 'CERTIFICATE');
  if (certs.length === 0) throw new SigningError('signing_key_invalid', 'No certificate was given with the key.');
  return withCertificate(createKeySigner(key), certs[0]!, certs.slice(1));
}

/** SHA-256 fingerprint of a certificate, as lower-case hex. */
export function fingerprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}
