// A Signer whose private key lives in a PKCS#11 token (an HSM; SoftHSM2 in tests). The key never
// leaves the token: Sigil hashes, the token signs the digest (CKM_RSA_PKCS over a DigestInfo,
// CKM_ECDSA over the bare digest), which works on every token whatever hash mechanisms it offers.
import { createHash, createPublicKey } from 'node:crypto';
// pkcs11js is CommonJS that builds its exports by spreading the native addon, which Node's ESM
// loader cannot see: a namespace import holds only PKCS11 there (the CK* constants are undefined
// under plain Node, though defined under vitest), so the constants come from module.exports.
import pkcs11js from 'pkcs11js';
import { SigningError } from './errors.js';
import { ecdsaSignatureDer, oidDer, readOctetString, readOid } from './asn1.js';
import { NODE_HASH, OID, type HashName } from './oids.js';
import { orderChain, type KeySigner, type KeyType, type Signer } from './signer.js';
import { parseCertificate } from './x509.js';

export interface Pkcs11Options {
  /** Path of the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so. */
  library: string;
  /** The token, by label (the first token with a key when absent). */
  tokenLabel?: string;
  pin: string;
  /** The key, by CKA_LABEL or CKA_ID (hex); the first private key when neither is given. */
  keyLabel?: string;
  keyId?: string;
  /** The key's certificate and chain (DER); read from the token (same CKA_ID) when absent. */
  certificate?: Buffer;
  chain?: Buffer[];
}

export interface Pkcs11KeySigner extends KeySigner {
  /** Logs out and closes the session; the module is finalised with its last user. */
  close(): void;
}

export interface Pkcs11Signer extends Signer {
  close(): void;
}

/** RFC 8017 §9.2 note 1: DER prefixes of DigestInfo for each hash. */
const DIGEST_INFO: Record<HashName, Buffer> = {
  'SHA-256': Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  'SHA-384': Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  'SHA-512': Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

const modules = new Map<string, { module: pkcs11js.PKCS11; users: number }>();

function loadModule(library: string): pkcs11js.PKCS11 {
  const loaded = modules.get(library);
  if (loaded) {
    loaded.users++;
    return loaded.module;
  }
  const module = new pkcs11js.PKCS11();
  try {
    module.load(library);
    // Signatures run on libuv's threads (C_Sign with a callback), several sessions at once, while
    // the main thread opens others. Without CKF_OS_LOCKING_OK the module may assume one thread and
    // take no locks (SoftHSM2 does exactly that).
    module.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (error) {
    if (!/CKR_CRYPTOKI_ALREADY_INITIALIZED/.test(String(error))) throw unavailable(error);
  }
  modules.set(library, { module, users: 1 });
  return module;
}

function releaseModule(library: string): void {
  const loaded = modules.get(library);
  if (!loaded || --loaded.users > 0) return;
  modules.delete(library);
  try {
    loaded.module.C_Finalize();
  } catch {
    // already finalised
  }
}

function unavailable(error: unknown): SigningError {
  return new SigningError(
    'signer_unavailable',
    `The PKCS#11 token could not be used: ${error instanceof Error ? error.message : String(error)}.`,
  );
}

const b64url = (b: Buffer) => b.toString('base64url');

function findObjects(module: pkcs11js.PKCS11, session: Buffer, template: pkcs11js.Template, max = 16): Buffer[] {
  module.C_FindObjectsInit(session, template);
  try {
    return module.C_FindObjects(session, max);
  } finally {
    module.C_FindObjectsFinal(session);
  }
}

function attribute(module: pkcs11js.PKCS11, session: Buffer, handle: Buffer, type: number): Buffer | null {
  try {
    const [attr] = module.C_GetAttributeValue(session, handle, [{ type }]);
    return Buffer.isBuffer(attr?.value) ? attr.value : null;
  } catch {
    return null;
  }
}

/** The SubjectPublicKeyInfo of the key's public half, from a public-key object. */
function publicKeyFromToken(
  module: pkcs11js.PKCS11,
  session: Buffer,
  keyType: KeyType,
  idTemplate: pkcs11js.Template,
): Buffer | null {
  const [pub] = findObjects(
    module,
    session,
    [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY }, ...idTemplate],
    1,
  );
  if (!pub) return null;
  if (keyType === 'RSA') {
    const n = attribute(module, session, pub, pkcs11js.CKA_MODULUS);
    const e = attribute(module, session, pub, pkcs11js.CKA_PUBLIC_EXPONENT);
    if (!n || !e) return null;
    return createPublicKey({ key: { kty: 'RSA', n: b64url(n), e: b64url(e) }, format: 'jwk' }).export({
      format: 'der',
      type: 'spki',
    });
  }
  const params = attribute(module, session, pub, pkcs11js.CKA_EC_PARAMS);
  const pointDer = attribute(module, session, pub, pkcs11js.CKA_EC_POINT);
  if (!params || !pointDer) return null;
  const curveOid = readOid(params, 'CKA_EC_PARAMS');
  const crv = curveOid === OID.p256 ? 'P-256' : curveOid === OID.p384 ? 'P-384' : null;
  if (!crv) return null;
  // CKA_EC_POINT is a DER OCTET STRING around the uncompressed point 04 || X || Y.
  const point = readOctetString(pointDer, 'CKA_EC_POINT');
  const size = (point.length - 1) / 2;
  return createPublicKey({
    key: { kty: 'EC', crv, x: b64url(point.subarray(1, 1 + size)), y: b64url(point.subarray(1 + size)) },
    format: 'jwk',
  }).export({ format: 'der', type: 'spki' });
}

/** The slot of the token with that label, or of the first token present. */
function findSlot(module: pkcs11js.PKCS11, tokenLabel: string | undefined): Buffer {
  const slot = module
    .C_GetSlotList(true)
    .find((s) => !tokenLabel || module.C_GetTokenInfo(s).label.trim() === tokenLabel);
  if (!slot)
    throw new SigningError(
      'signer_unavailable',
      `No PKCS#11 token${tokenLabel ? ` labelled ${tokenLabel}` : ''} is present.`,
    );
  return slot;
}

/** Logs the session in as the token's user (already logged in through another session of this process is fine). */
function logIn(module: pkcs11js.PKCS11, session: Buffer, pin: string): void {
  try {
    module.C_Login(session, pkcs11js.CKU_USER, pin);
  } catch (error) {
    const text = String(error);
    if (/CKR_PIN_INCORRECT|CKR_PIN_LEN_RANGE/.test(text))
      throw new SigningError('key_password_invalid', 'The PIN of the PKCS#11 token is wrong.');
    if (/CKR_PIN_LOCKED/.test(text))
      throw new SigningError('signer_unavailable', 'The PIN of the PKCS#11 token is locked.');
    if (!/CKR_USER_ALREADY_LOGGED_IN/.test(text)) throw error;
  }
}

/** Opens a session on the token and finds the key; the signer serialises operations on its session. */
export function openPkcs11KeySigner(options: Pkcs11Options): Pkcs11KeySigner & { certificateFromToken: Buffer | null } {
  const module = loadModule(options.library);
  let session: Buffer | null = null;
  try {
    session = module.C_OpenSession(
      findSlot(module, options.tokenLabel),
      pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION,
    );
    logIn(module, session, options.pin);
    const idTemplate: pkcs11js.Template = [];
    if (options.keyLabel) idTemplate.push({ type: pkcs11js.CKA_LABEL, value: options.keyLabel });
    if (options.keyId) idTemplate.push({ type: pkcs11js.CKA_ID, value: Buffer.from(options.keyId, 'hex') });
    const [key] = findObjects(
      module,
      session,
      [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY }, ...idTemplate],
      1,
    );
    if (!key) throw new SigningError('signing_key_invalid', 'No such private key on the PKCS#11 token.');
    const keyTypeAttr = attribute(module, session, key, pkcs11js.CKA_KEY_TYPE);
    const keyTypeCode = keyTypeAttr ? keyTypeAttr.readUIntLE(0, Math.min(6, keyTypeAttr.length)) : -1;
    const keyType: KeyType =
      keyTypeCode === pkcs11js.CKK_RSA
        ? 'RSA'
        : keyTypeCode === pkcs11js.CKK_EC
          ? 'EC'
          : (() => {
              throw new SigningError('signing_key_invalid', 'The token key is neither RSA nor EC.');
            })();
    // Find the public half and certificate by the key's own CKA_ID when the caller named it by label.
    const keyId = attribute(module, session, key, pkcs11js.CKA_ID);
    const sameKey: pkcs11js.Template = keyId && keyId.length ? [{ type: pkcs11js.CKA_ID, value: keyId }] : idTemplate;
    const [certObject] = findObjects(
      module,
      session,
      [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE }, ...sameKey],
      1,
    );
    const certificateFromToken = certObject ? attribute(module, session, certObject, pkcs11js.CKA_VALUE) : null;
    const publicKey =
      publicKeyFromToken(module, session, keyType, sameKey) ??
      (options.certificate
        ? parseCertificate(options.certificate).spki
        : certificateFromToken
          ? parseCertificate(certificateFromToken).spki
          : null);
    if (!publicKey)
      throw new SigningError(
        'signing_key_invalid',
        'The public key of the token key cannot be found; give its certificate.',
      );

    const open = session;
    let queue: Promise<unknown> = Promise.resolve();
    let closed = false;
    const signOnce = (data: Uint8Array, hash: HashName): Promise<Buffer> =>
      new Promise<Buffer>((resolve, reject) => {
        const digest = createHash(NODE_HASH[hash]).update(data).digest();
        const input = keyType === 'RSA' ? Buffer.concat([DIGEST_INFO[hash], digest]) : digest;
        try {
          module.C_SignInit(open, { mechanism: keyType === 'RSA' ? pkcs11js.CKM_RSA_PKCS : pkcs11js.CKM_ECDSA }, key);
          module.C_Sign(open, input, Buffer.alloc(1024), (error, signature) => {
            if (error) reject(unavailable(error));
            else if (keyType === 'EC') {
              // PKCS#11 returns r || s; X.509 and CMS want SEQUENCE { r INTEGER, s INTEGER }.
              const half = signature.length / 2;
              resolve(ecdsaSignatureDer(signature.subarray(0, half), signature.subarray(half)));
            } else resolve(signature);
          });
        } catch (error) {
          reject(unavailable(error));
        }
      });
    return {
      keyType,
      algorithm: keyType === 'RSA' ? 'RSASSA-PKCS1-v1_5' : 'ECDSA',
      publicKey,
      certificateFromToken,
      sign(data, hash) {
        if (closed) return Promise.reject(new SigningError('signer_unavailable', 'The PKCS#11 session is closed.'));
        if (hash === 'SM3')
          return Promise.reject(new SigningError('signing_key_invalid', `${keyType} keys do not sign with SM3.`));
        // A PKCS#11 session runs one operation at a time (PKCS#11 §5.6), so signatures queue.
        const next = queue.then(() => signOnce(data, hash));
        queue = next.catch(() => undefined);
        return next;
      },
      close() {
        if (closed) return;
        closed = true;
        try {
          module.C_Logout(open);
        } catch {
          // not logged in
        }
        try {
          module.C_CloseSession(open);
        } finally {
          releaseModule(options.library);
        }
      },
    };
  } catch (error) {
    if (session) {
      try {
        module.C_CloseSession(session);
      } catch {
        // ignore
      }
    }
    releaseModule(options.library);
    if (error instanceof SigningError) throw error;
    throw unavailable(error);
  }
}

/** A document signer on a token key, with its certificate given or read from the token. */
export function openPkcs11Signer(options: Pkcs11Options): Pkcs11Signer {
  const keySigner = openPkcs11KeySigner(options);
  const certificate = options.certificate ?? keySigner.certificateFromToken;
  if (!certificate) {
    keySigner.close();
    throw new SigningError('signing_key_invalid', 'The token holds no certificate for the key; give one.');
  }
  if (!parseCertificate(certificate).spki.equals(keySigner.publicKey)) {
    keySigner.close();
    throw new SigningError('signing_key_invalid', 'The certificate does not belong to the token key.');
  }
  return {
    keyType: keySigner.keyType,
    algorithm: keySigner.algorithm,
    publicKey: keySigner.publicKey,
    certificate,
    chain: orderChain(certificate, options.chain ?? []),
    sign: (data, hash) => keySigner.sign(data, hash),
    close: () => keySigner.close(),
  };
}

export interface Pkcs11KeyGeneration {
  library: string;
  tokenLabel?: string;
  pin: string;
  spec: 'RSA-2048' | 'RSA-3072' | 'ECDSA-P256';
  /** CKA_LABEL and CKA_ID of both halves; open the key later with `keyId` (hex). */
  label: string;
  id: Buffer;
}

/**
 * Generates a key pair inside the token (the private half sensitive and not extractable, so it
 * never exists outside the HSM). The session is closed afterwards without C_Logout, which would
 * log out every other session of this process on the same token.
 */
export async function generatePkcs11KeyPair(options: Pkcs11KeyGeneration): Promise<void> {
  const module = loadModule(options.library);
  let session: Buffer | null = null;
  try {
    session = module.C_OpenSession(
      findSlot(module, options.tokenLabel),
      pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION,
    );
    logIn(module, session, options.pin);
    const isRsa = options.spec !== 'ECDSA-P256';
    const common: pkcs11js.Template = [
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_LABEL, value: options.label },
      { type: pkcs11js.CKA_ID, value: options.id },
      { type: pkcs11js.CKA_KEY_TYPE, value: isRsa ? pkcs11js.CKK_RSA : pkcs11js.CKK_EC },
    ];
    const publicTemplate: pkcs11js.Template = [
      ...common,
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
      { type: pkcs11js.CKA_VERIFY, value: true },
      ...(isRsa
        ? [
            { type: pkcs11js.CKA_MODULUS_BITS, value: options.spec === 'RSA-3072' ? 3072 : 2048 },
            { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
          ]
        : [{ type: pkcs11js.CKA_EC_PARAMS, value: oidDer(OID.p256) }]),
    ];
    const privateTemplate: pkcs11js.Template = [
      ...common,
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_SIGN, value: true },
    ];
    const mechanism = { mechanism: isRsa ? pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN : pkcs11js.CKM_EC_KEY_PAIR_GEN };
    await module.C_GenerateKeyPairAsync(session, mechanism, publicTemplate, privateTemplate);
  } catch (error) {
    if (error instanceof SigningError) throw error;
    throw unavailable(error);
  } finally {
    if (session) {
      try {
        module.C_CloseSession(session);
      } catch {
        // already closed
      }
    }
    releaseModule(options.library);
  }
}
