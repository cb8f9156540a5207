// PKCS#12 (RFC 7292) on @peculiar/asn1-pfx: import for seals whose certificates come from an
// outside CA, and export (used by tests and by the CLI's users). Only the parts real files use:
// password integrity (HMAC), PBES2 (PBKDF2 + AES/3DES, RFC 8018) and the PKCS#12 3DES scheme;
// RC2-40 is refused by name. Key derivation never runs on the event loop: PBKDF2 goes to libuv's
// thread pool, the PKCS#12 KDF (which node:crypto lacks) to a worker thread when it is long.
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  pbkdf2,
  pbkdf2Sync,
  randomBytes,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { AsnConvert, AsnPropTypes, OctetString } from '@peculiar/asn1-schema';
import { ContentInfo, EncryptedContent, EncryptedContentInfo } from '@peculiar/asn1-cms';
import {
  AuthenticatedSafe,
  CertBag,
  MacData,
  PFX,
  PKCS12Attribute,
  PKCS8ShroudedKeyBag,
  SafeBag,
  SafeContents,
} from '@peculiar/asn1-pfx';
import { EncryptedPrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { DigestInfo } from '@peculiar/asn1-rsa';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { SigningError } from './errors.js';
import { arrayBuffer, declareSchema, encode, octetStringDer, toBuffer } from './asn1.js';
import { createKeySigner, withCertificate, type Signer } from './signer.js';
import { parseCertificate } from './x509.js';

const P12 = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  shroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  localKeyId: '1.2.840.113549.1.9.21',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  pbeSha1TripleDes: '1.2.840.113549.1.12.1.3',
  pbeSha1Rc2_40: '1.2.840.113549.1.12.1.6',
  pbeSha1Rc2_128: '1.2.840.113549.1.12.1.5',
  hmacSha1: '1.2.840.113549.2.7',
  hmacSha256: '1.2.840.113549.2.9',
  hmacSha384: '1.2.840.113549.2.10',
  hmacSha512: '1.2.840.113549.2.11',
  aes128cbc: '2.16.840.1.101.3.4.1.2',
  aes192cbc: '2.16.840.1.101.3.4.1.22',
  aes256cbc: '2.16.840.1.101.3.4.1.42',
  desEde3cbc: '1.2.840.113549.3.7',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
} as const;

const WHAT = 'PKCS#12 file';
/**
 * The most KDF iterations accepted. OpenSSL writes 2,048, Windows 2,000 to 10,000, and OWASP asks
 * 600,000 of PBKDF2-SHA-256; a million covers them, while 10 million (the former limit) let one
 * upload hold a CPU for tens of seconds.
 */
export const MAX_ITERATIONS = 1_000_000;
/** Below this many iterations the PKCS#12 KDF runs in place (a few milliseconds); above, in a worker. */
const INLINE_ITERATIONS = 20_000;
const MAX_PKCS12_BYTES = 1024 * 1024;

const fail = (message: string): never => {
  throw new SigningError('signing_key_invalid', `${WHAT}: ${message}`);
};
const wrongPassword = () => new SigningError('key_password_invalid', 'The password of the PKCS#12 file is wrong.');

function hashOf(oid: string): { name: string; block: number } {
  switch (oid) {
    case P12.sha1:
    case P12.hmacSha1:
      return { name: 'sha1', block: 64 };
    case P12.sha256:
    case P12.hmacSha256:
      return { name: 'sha256', block: 64 };
    case P12.sha384:
    case P12.hmacSha384:
      return { name: 'sha384', block: 128 };
    case P12.sha512:
    case P12.hmacSha512:
      return { name: 'sha512', block: 128 };
    default:
      return fail(`unsupported hash ${oid}`);
  }
}

function checkIterations(n: number): number {
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_ITERATIONS)
    fail(`iteration count ${n} out of range (1 to ${MAX_ITERATIONS})`);
  return n;
}

// ---------------------------------------------------------------- schemas (RFC 8018, RFC 7292 App. C)

class Pbkdf2Params {
  salt = new OctetString();
  iterationCount = 0;
  keyLength?: number;
  prf?: AlgorithmIdentifier;
}
declareSchema(Pbkdf2Params, [
  ['salt', { type: OctetString }],
  ['iterationCount', { type: AsnPropTypes.Integer }],
  ['keyLength', { type: AsnPropTypes.Integer, optional: true }],
  ['prf', { type: AlgorithmIdentifier, optional: true }],
]);

class Pbes2Params {
  keyDerivationFunc = new AlgorithmIdentifier();
  encryptionScheme = new AlgorithmIdentifier();
}
declareSchema(Pbes2Params, [
  ['keyDerivationFunc', { type: AlgorithmIdentifier }],
  ['encryptionScheme', { type: AlgorithmIdentifier }],
]);

/** EncryptedData (RFC 5652 §8), which asn1-cms does not declare. */
class EncryptedData {
  version = 0;
  encryptedContentInfo = new EncryptedContentInfo();
}
declareSchema(EncryptedData, [
  ['version', { type: AsnPropTypes.Integer }],
  ['encryptedContentInfo', { type: EncryptedContentInfo }],
]);

class Pkcs12PbeParams {
  salt = new OctetString();
  iterations = 0;
}
declareSchema(Pkcs12PbeParams, [
  ['salt', { type: OctetString }],
  ['iterations', { type: AsnPropTypes.Integer }],
]);

// ---------------------------------------------------------------- key derivation

/**
 * RFC 7292 Appendix B.2 key derivation; id 1 = key, 2 = IV, 3 = MAC key. It takes the hash
 * function as a parameter and uses only globals otherwise, so its source can run in a worker.
 */
function pkcs12Kdf(
  hash: (data: Uint8Array) => Uint8Array,
  block: number,
  password: Uint8Array,
  salt: Uint8Array,
  id: number,
  iterations: number,
  length: number,
): Uint8Array {
  const repeat = (src: Uint8Array) => {
    const out = new Uint8Array(src.length === 0 ? 0 : block * Math.ceil(src.length / block));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const I = new Uint8Array([...repeat(salt), ...repeat(password)]);
  const out = new Uint8Array(length);
  let produced = 0;
  while (produced < length) {
    let A = hash(new Uint8Array([...new Uint8Array(block).fill(id), ...I]));
    for (let r = 1; r < iterations; r++) A = hash(A);
    out.set(A.subarray(0, Math.min(A.length, length - produced)), produced);
    produced += A.length;
    const B = new Uint8Array(block);
    for (let i = 0; i < block; i++) B[i] = A[i % A.length]!;
    for (let j = 0; j < I.length; j += block) {
      let carry = 1;
      for (let k = block - 1; k >= 0; k--) {
        const sum = I[j + k]! + B[k]! + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return out;
}

/** The worker's program: the same function, fed by workerData, answering once. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const pkcs12Kdf = ${pkcs12Kdf.toString()};
const { hashName, block, password, salt, id, iterations, length } = workerData;
const hash = (data) => createHash(hashName).update(data).digest();
parentPort.postMessage(pkcs12Kdf(hash, block, password, salt, id, iterations, length));
`;

/** The PKCS#12 KDF, in place when short, else in a worker thread so the server keeps answering. */
function derivePkcs12(
  hashName: string,
  block: number,
  password: Buffer,
  salt: Buffer,
  id: number,
  iterations: number,
  length: number,
): Promise<Buffer> {
  checkIterations(iterations);
  if (iterations <= INLINE_ITERATIONS) {
    const hash = (data: Uint8Array) => createHash(hashName).update(data).digest();
    return Promise.resolve(Buffer.from(pkcs12Kdf(hash, block, password, salt, id, iterations, length)));
  }
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { hashName, block, password, salt, id, iterations, length },
    });
    worker.once('message', (result: Uint8Array) => resolve(Buffer.from(result)));
    worker.once('error', reject);
    worker.once('exit', (code) => code !== 0 && reject(new Error(`the key derivation worker stopped (${code})`)));
  });
}

const pbkdf2Async = (password: Buffer, salt: Buffer, iterations: number, length: number, digest: string) =>
  new Promise<Buffer>((resolve, reject) =>
    pbkdf2(password, salt, checkIterations(iterations), length, digest, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );

/** The password as PKCS#12 wants it for its own KDF: BMPString, NUL-terminated (RFC 7292 App. B.1). */
function bmpPassword(password: string): Buffer {
  return Buffer.concat([Buffer.from(password, 'utf16le').swap16(), Buffer.alloc(2)]);
}

const CIPHERS: Record<string, [string, number]> = {
  [P12.aes128cbc]: ['aes-128-cbc', 16],
  [P12.aes192cbc]: ['aes-192-cbc', 24],
  [P12.aes256cbc]: ['aes-256-cbc', 32],
  [P12.desEde3cbc]: ['des-ede3-cbc', 24],
};

/** Decrypts with a password-based scheme: PBES2 or PKCS#12's 3DES. */
async function decrypt(algorithm: AlgorithmIdentifier, data: Buffer, password: string): Promise<Buffer> {
  if (algorithm.algorithm === P12.pbes2) {
    const params = AsnConvert.parse(algorithm.parameters!, Pbes2Params);
    if (params.keyDerivationFunc.algorithm !== P12.pbkdf2) fail('only PBKDF2 is supported inside PBES2');
    const kdf = AsnConvert.parse(params.keyDerivationFunc.parameters!, Pbkdf2Params);
    const prf = kdf.prf ? hashOf(kdf.prf.algorithm).name : 'sha1';
    const cipher = CIPHERS[params.encryptionScheme.algorithm];
    if (!cipher) return fail('unsupported cipher inside PBES2');
    const iv = toBuffer(AsnConvert.parse(params.encryptionScheme.parameters!, OctetString).buffer);
    const key = await pbkdf2Async(
      Buffer.from(password, 'utf8'),
      toBuffer(kdf.salt.buffer),
      kdf.iterationCount,
      cipher[1],
      prf,
    );
    const decipher = createDecipheriv(cipher[0], key, iv);
    return Buffer.concat([decipher.update(data), decipher.final()]);
  }
  if (algorithm.algorithm === P12.pbeSha1TripleDes) {
    const params = AsnConvert.parse(algorithm.parameters!, Pkcs12PbeParams);
    const salt = toBuffer(params.salt.buffer);
    const pw = bmpPassword(password);
    const key = await derivePkcs12('sha1', 64, pw, salt, 1, params.iterations, 24);
    const iv = await derivePkcs12('sha1', 64, pw, salt, 2, params.iterations, 8);
    const decipher = createDecipheriv('des-ede3-cbc', key, iv);
    return Buffer.concat([decipher.update(data), decipher.final()]);
  }
  if (algorithm.algorithm === P12.pbeSha1Rc2_40 || algorithm.algorithm === P12.pbeSha1Rc2_128) {
    return fail(
      'it uses RC2 encryption, which is obsolete; export it again with AES (e.g. `openssl pkcs12 -export` without -legacy)',
    );
  }
  return fail(`unsupported encryption ${algorithm.algorithm}`);
}

/** The data of a ContentInfo of type id-data: an OCTET STRING (possibly constructed, in BER). */
const dataOf = (info: ContentInfo): Buffer => toBuffer(AsnConvert.parse(info.content, OctetString).buffer);

export interface Pkcs12Contents {
  key: KeyObject;
  certificate: Buffer;
  chain: Buffer[];
}

/** Reads a PKCS#12 file: checks its password MAC, decrypts the key and certificates. */
export async function readPkcs12(p12: Buffer, password: string): Promise<Pkcs12Contents> {
  if (p12.length > MAX_PKCS12_BYTES) fail('larger than 1 MB');
  let pfx: PFX;
  let authContent: Buffer;
  try {
    pfx = AsnConvert.parse(p12, PFX);
    if (pfx.authSafe.contentType !== P12.data)
      throw new SigningError('signing_key_invalid', `${WHAT}: public-key integrity mode is not supported`);
    authContent = dataOf(pfx.authSafe);
  } catch (error) {
    if (error instanceof SigningError) throw error;
    return fail('not a PKCS#12 (PFX) structure');
  }

  if (pfx.macData) {
    const mac: MacData = pfx.macData;
    const hash = hashOf(mac.mac.digestAlgorithm.algorithm);
    const expected = toBuffer(mac.mac.digest.buffer);
    const macKey = await derivePkcs12(
      hash.name,
      hash.block,
      bmpPassword(password),
      toBuffer(mac.macSalt.buffer),
      3,
      mac.iterations,
      expected.length,
    );
    const actual = createHmac(hash.name, macKey).update(authContent).digest();
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) throw wrongPassword();
  }

  const keys: KeyObject[] = [];
  const certs: Buffer[] = [];
  const readBags = async (safeContents: Buffer) => {
    for (const bag of AsnConvert.parse(safeContents, SafeContents)) {
      if (bag.bagId === P12.certBag) {
        const cert = AsnConvert.parse(bag.bagValue, CertBag);
        if (cert.certId === P12.x509Certificate)
          certs.push(toBuffer(AsnConvert.parse(cert.certValue, OctetString).buffer));
      } else if (bag.bagId === P12.shroudedKeyBag) {
        const shrouded = AsnConvert.parse(bag.bagValue, PKCS8ShroudedKeyBag);
        let pkcs8: Buffer;
        try {
          pkcs8 = await decrypt(shrouded.encryptionAlgorithm, toBuffer(shrouded.encryptedData.buffer), password);
        } catch (error) {
          if (error instanceof SigningError) throw error;
          throw wrongPassword();
        }
        try {
          keys.push(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }));
        } catch {
          throw wrongPassword();
        }
      } else if (bag.bagId === P12.keyBag) {
        keys.push(createPrivateKey({ key: toBuffer(bag.bagValue), format: 'der', type: 'pkcs8' }));
      }
    }
  };

  try {
    for (const info of AsnConvert.parse(authContent, AuthenticatedSafe)) {
      if (info.contentType === P12.data) await readBags(dataOf(info));
      else if (info.contentType === P12.encryptedData) {
        const encrypted = AsnConvert.parse(info.content, EncryptedData).encryptedContentInfo;
        const content = encrypted.encryptedContent;
        const bytes = content?.value
          ? toBuffer(content.value.buffer)
          : content?.constructedValue
            ? Buffer.concat(content.constructedValue.map((part) => toBuffer(part.buffer)))
            : Buffer.alloc(0);
        let plain: Buffer;
        try {
          plain = await decrypt(encrypted.contentEncryptionAlgorithm, bytes, password);
        } catch (error) {
          if (error instanceof SigningError) throw error;
          throw wrongPassword();
        }
        await readBags(plain);
      }
    }
  } catch (error) {
    if (error instanceof SigningError) throw error;
    fail('a bag could not be read');
  }

  if (keys.length === 0) fail('it holds no private key');
  for (const key of keys) {
    const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
    const own = certs.find((c) => parseCertificate(c).spki.equals(spki));
    if (own) return { key, certificate: own, chain: certs.filter((c) => c !== own) };
  }
  return fail('no certificate in it belongs to its private key');
}

/** A Signer from a PKCS#12 file (outside CA, or `--p12` on the command line). */
export async function signerFromPkcs12(p12: Buffer, password: string): Promise<Signer> {
  const { key, certificate, chain } = await readPkcs12(p12, password);
  return withCertificate(createKeySigner(key), certificate, chain);
}

function pbes2Algorithm(salt: Buffer, iterations: number, iv: Buffer): AlgorithmIdentifier {
  const kdf = Object.assign(new Pbkdf2Params(), {
    salt: new OctetString(salt),
    iterationCount: iterations,
    prf: new AlgorithmIdentifier({ algorithm: P12.hmacSha256, parameters: null }),
  });
  const params = Object.assign(new Pbes2Params(), {
    keyDerivationFunc: new AlgorithmIdentifier({ algorithm: P12.pbkdf2, parameters: AsnConvert.serialize(kdf) }),
    encryptionScheme: new AlgorithmIdentifier({
      algorithm: P12.aes256cbc,
      parameters: arrayBuffer(octetStringDer(iv)),
    }),
  });
  return new AlgorithmIdentifier({ algorithm: P12.pbes2, parameters: AsnConvert.serialize(params) });
}

const dataInfo = (der: Buffer) => new ContentInfo({ contentType: P12.data, content: arrayBuffer(octetStringDer(der)) });

/**
 * Writes a PKCS#12 file: AES-256-CBC under PBKDF2-SHA-256, HMAC-SHA-256 integrity (what OpenSSL 3
 * writes by default). Synchronous: it serves exports and tests, never a request.
 */
export function writePkcs12(input: {
  key: KeyObject;
  certificate: Buffer;
  chain?: Buffer[];
  password: string;
  iterations?: number;
}): Buffer {
  const iterations = checkIterations(input.iterations ?? 2048);
  const pbkdf2Key = (salt: Buffer) => pbkdf2Sync(Buffer.from(input.password, 'utf8'), salt, iterations, 32, 'sha256');
  const keyId = createHash('sha1').update(input.certificate).digest();
  const attributes = [
    // asn1-pfx's PKCS12Attribute constructor drops its parameters (Object.assign(params)); set them here.
    Object.assign(new PKCS12Attribute(), { attrId: P12.localKeyId, attrValues: [arrayBuffer(octetStringDer(keyId))] }),
  ];

  const keySalt = randomBytes(16);
  const keyIv = randomBytes(16);
  const keyCipher = createCipheriv('aes-256-cbc', pbkdf2Key(keySalt), keyIv);
  const pkcs8 = input.key.export({ format: 'der', type: 'pkcs8' });
  const shrouded = new EncryptedPrivateKeyInfo({
    encryptionAlgorithm: pbes2Algorithm(keySalt, iterations, keyIv),
    encryptedData: new OctetString(Buffer.concat([keyCipher.update(pkcs8), keyCipher.final()])),
  });
  const keyBags = encode(
    new SafeContents([
      new SafeBag({ bagId: P12.shroudedKeyBag, bagValue: AsnConvert.serialize(shrouded), bagAttributes: attributes }),
    ]),
  );
  const certBag = (der: Buffer, withId: boolean) =>
    new SafeBag({
      bagId: P12.certBag,
      bagValue: AsnConvert.serialize(
        new CertBag({ certId: P12.x509Certificate, certValue: arrayBuffer(octetStringDer(der)) }),
      ),
      bagAttributes: withId ? attributes : undefined,
    });
  const certBags = encode(
    new SafeContents([certBag(input.certificate, true), ...(input.chain ?? []).map((c) => certBag(c, false))]),
  );

  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', pbkdf2Key(salt), iv);
  const encryptedData = Object.assign(new EncryptedData(), {
    encryptedContentInfo: new EncryptedContentInfo({
      contentType: P12.data,
      contentEncryptionAlgorithm: pbes2Algorithm(salt, iterations, iv),
      encryptedContent: new EncryptedContent({
        value: new OctetString(Buffer.concat([cipher.update(certBags), cipher.final()])),
      }),
    }),
  });
  const authSafe = encode(
    new AuthenticatedSafe([
      new ContentInfo({ contentType: P12.encryptedData, content: AsnConvert.serialize(encryptedData) }),
      dataInfo(keyBags),
    ]),
  );
  const macSalt = randomBytes(16);
  const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest();
  const macKey = pkcs12Kdf(sha256, 64, bmpPassword(input.password), macSalt, 3, iterations, 32);
  const pfx = new PFX({
    version: 3,
    authSafe: dataInfo(authSafe),
    macData: new MacData({
      mac: new DigestInfo({
        digestAlgorithm: new AlgorithmIdentifier({ algorithm: P12.sha256, parameters: null }),
        digest: new OctetString(createHmac('sha256', macKey).update(authSafe).digest()),
      }),
      macSalt: new OctetString(macSalt),
      iterations,
    }),
  });
  return encode(pfx);
}
