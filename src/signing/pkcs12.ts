// PKCS#12 (RFC 7292) import for seals whose certificates come from an outside CA, and export
// (used by tests and by the CLI's users). Only the parts real files use: password integrity (HMAC),
// PBES2 (PBKDF2 + AES/3DES, RFC 8018) and the PKCS#12 3DES scheme; RC2-40 is refused by name.
import {
  createDecipheriv,
  createCipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  pbkdf2Sync,
  randomBytes,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { AppError } from '../server/errors.js';
import {
  TAG,
  childrenOf,
  contentOf,
  encodingOf,
  expectTag,
  explicit,
  implicitPrimitive,
  integer,
  nullValue,
  octetString,
  oid,
  parseDer,
  readInteger,
  readOid,
  seq,
  setOf,
  type Node,
} from './der.js';
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
const MAX_ITERATIONS = 10_000_000;

const fail = (message: string): never => {
  throw new AppError('signing_key_invalid', `${WHAT}: ${message}`);
};

function hashOf(oidText: string): { name: string; block: number } {
  switch (oidText) {
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
      return fail(`unsupported hash ${oidText}`);
  }
}

/** The password as PKCS#12 wants it for its own KDF: BMPString, NUL-terminated (RFC 7292 App. B.1). */
function bmpPassword(password: string): Buffer {
  return Buffer.concat([Buffer.from(password, 'utf16le').swap16(), Buffer.alloc(2)]);
}

/** RFC 7292 Appendix B.2 key derivation. id 1 = key, 2 = IV, 3 = MAC key. */
function pkcs12Kdf(
  hashName: string,
  block: number,
  password: Buffer,
  salt: Buffer,
  id: number,
  iterations: number,
  length: number,
): Buffer {
  const repeat = (src: Buffer) => {
    if (src.length === 0) return Buffer.alloc(0);
    const out = Buffer.alloc(block * Math.ceil(src.length / block));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const D = Buffer.alloc(block, id);
  const I = Buffer.concat([repeat(salt), repeat(password)]);
  const out: Buffer[] = [];
  let produced = 0;
  while (produced < length) {
    let A = createHash(hashName).update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) A = createHash(hashName).update(A).digest();
    out.push(A);
    produced += A.length;
    const B = Buffer.alloc(block);
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
  return Buffer.concat(out).subarray(0, length);
}

function iterationsOf(node: Node | undefined): number {
  const n = node ? Number(readInteger(node, WHAT)) : 1;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_ITERATIONS) fail('iteration count out of range');
  return n;
}

function decrypt(algorithm: Node, data: Buffer, password: string): Buffer {
  const [idNode, params] = childrenOf(algorithm, WHAT);
  const id = readOid(idNode!, WHAT);
  if (id === P12.pbes2) {
    const [kdf, scheme] = childrenOf(params!, WHAT);
    const [kdfId, kdfParams] = childrenOf(kdf!, WHAT);
    if (readOid(kdfId!, WHAT) !== P12.pbkdf2) fail('only PBKDF2 is supported inside PBES2');
    const kp = childrenOf(kdfParams!, WHAT);
    const salt = contentOf(expectTag(kp[0], TAG.octetString, WHAT));
    const iterations = iterationsOf(kp[1]);
    let prf = 'sha1';
    for (const extra of kp.slice(2))
      if (extra.tag === TAG.sequence) prf = hashOf(readOid(childrenOf(extra, WHAT)[0]!, WHAT)).name;
    const [schemeId, ivNode] = childrenOf(scheme!, WHAT);
    const cipher = {
      [P12.aes128cbc]: ['aes-128-cbc', 16],
      [P12.aes192cbc]: ['aes-192-cbc', 24],
      [P12.aes256cbc]: ['aes-256-cbc', 32],
      [P12.desEde3cbc]: ['des-ede3-cbc', 24],
    }[readOid(schemeId!, WHAT)] as [string, number] | undefined;
    if (!cipher) fail('unsupported cipher inside PBES2');
    const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, cipher![1], prf);
    const decipher = createDecipheriv(cipher![0], key, contentOf(ivNode!));
    return Buffer.concat([decipher.update(data), decipher.final()]);
  }
  if (id === P12.pbeSha1TripleDes) {
    const [saltNode, iterNode] = childrenOf(params!, WHAT);
    const salt = contentOf(saltNode!);
    const iterations = iterationsOf(iterNode);
    const pw = bmpPassword(password);
    const key = pkcs12Kdf('sha1', 64, pw, salt, 1, iterations, 24);
    const iv = pkcs12Kdf('sha1', 64, pw, salt, 2, iterations, 8);
    const decipher = createDecipheriv('des-ede3-cbc', key, iv);
    return Buffer.concat([decipher.update(data), decipher.final()]);
  }
  if (id === P12.pbeSha1Rc2_40 || id === P12.pbeSha1Rc2_128) {
    return fail(
      'it uses RC2 encryption, which is obsolete; export it again with AES (e.g. `openssl pkcs12 -export` without -legacy)',
    );
  }
  return fail(`unsupported encryption ${id}`);
}

/** The OCTET STRING content of a primitive or constructed (chunked) string. */
function octets(node: Node): Buffer {
  if (node.tag === TAG.octetString || node.tag === 0x80) return contentOf(node);
  return Buffer.concat(childrenOf(node, WHAT).map((c) => octets(c)));
}

export interface Pkcs12Contents {
  key: KeyObject;
  certificate: Buffer;
  chain: Buffer[];
}

/** Reads a PKCS#12 file: checks its password MAC, decrypts the key and certificates. */
export function readPkcs12(p12: Buffer, password: string): Pkcs12Contents {
  if (p12.length > 1024 * 1024) fail('larger than 1 MB');
  const wrongPassword = () => new AppError('key_password_invalid', 'The password of the PKCS#12 file is wrong.');
  let pfx: Node[];
  try {
    pfx = childrenOf(expectTag(parseDer(p12, WHAT), TAG.sequence, WHAT), WHAT);
  } catch {
    return fail('not a PKCS#12 (PFX) structure');
  }
  const [, authSafe, macData] = pfx;
  const [ctype, wrapped] = childrenOf(expectTag(authSafe, TAG.sequence, WHAT), WHAT);
  if (readOid(ctype!, WHAT) !== P12.data) fail('public-key integrity mode is not supported');
  const authContent = octets(childrenOf(wrapped!, WHAT)[0]!);

  if (macData) {
    const [digestInfo, saltNode, iterNode] = childrenOf(macData, WHAT);
    const [alg, digest] = childrenOf(digestInfo!, WHAT);
    const hash = hashOf(readOid(childrenOf(alg!, WHAT)[0]!, WHAT));
    const expected = contentOf(digest!);
    const macKey = pkcs12Kdf(
      hash.name,
      hash.block,
      bmpPassword(password),
      contentOf(saltNode!),
      3,
      iterationsOf(iterNode),
      expected.length,
    );
    const actual = createHmac(hash.name, macKey).update(authContent).digest();
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) throw wrongPassword();
  }

  const keys: KeyObject[] = [];
  const certs: Buffer[] = [];
  const readBags = (safeContents: Buffer) => {
    for (const bag of childrenOf(parseDer(safeContents, WHAT), WHAT)) {
      const [bagId, bagValue] = childrenOf(bag, WHAT);
      const id = readOid(bagId!, WHAT);
      const value = childrenOf(bagValue!, WHAT)[0]!;
      if (id === P12.certBag) {
        const [certType, certValue] = childrenOf(value, WHAT);
        if (readOid(certType!, WHAT) === P12.x509Certificate)
          certs.push(Buffer.from(octets(childrenOf(certValue!, WHAT)[0]!)));
      } else if (id === P12.shroudedKeyBag) {
        try {
          keys.push(createPrivateKey({ key: encodingOf(value), format: 'der', type: 'pkcs8', passphrase: password }));
        } catch {
          throw wrongPassword();
        }
      } else if (id === P12.keyBag) {
        keys.push(createPrivateKey({ key: encodingOf(value), format: 'der', type: 'pkcs8' }));
      }
    }
  };

  try {
    for (const info of childrenOf(parseDer(authContent, WHAT), WHAT)) {
      const [type, content] = childrenOf(info, WHAT);
      const typeId = readOid(type!, WHAT);
      if (typeId === P12.data) readBags(octets(childrenOf(content!, WHAT)[0]!));
      else if (typeId === P12.encryptedData) {
        const [, encInfo] = childrenOf(childrenOf(content!, WHAT)[0]!, WHAT);
        const [, alg, encrypted] = childrenOf(encInfo!, WHAT);
        let plain: Buffer;
        try {
          plain = decrypt(alg!, octets(encrypted!), password);
        } catch (error) {
          if (error instanceof AppError) throw error;
          throw wrongPassword();
        }
        readBags(plain);
      }
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
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
export function signerFromPkcs12(p12: Buffer, password: string): Signer {
  const { key, certificate, chain } = readPkcs12(p12, password);
  return withCertificate(createKeySigner(key), certificate, chain);
}

function pbes2Params(salt: Buffer, iterations: number, iv: Buffer): Buffer {
  return seq(
    oid(P12.pbes2),
    seq(
      seq(oid(P12.pbkdf2), seq(octetString(salt), integer(iterations), seq(oid(P12.hmacSha256), nullValue()))),
      seq(oid(P12.aes256cbc), octetString(iv)),
    ),
  );
}

/** Writes a PKCS#12 file: AES-256-CBC under PBKDF2-SHA-256, HMAC-SHA-256 integrity (what OpenSSL 3 writes by default). */
export function writePkcs12(input: {
  key: KeyObject;
  certificate: Buffer;
  chain?: Buffer[];
  password: string;
  iterations?: number;
}): Buffer {
  const iterations = input.iterations ?? 2048;
  const keyId = createHash('sha1').update(input.certificate).digest();
  const attrs = setOf(seq(oid(P12.localKeyId), setOf(octetString(keyId))));
  const shrouded = input.key.export({
    format: 'der',
    type: 'pkcs8',
    cipher: 'aes-256-cbc',
    passphrase: input.password,
  });
  const keyBags = seq(seq(oid(P12.shroudedKeyBag), explicit(0, shrouded), attrs));
  const certBag = (der: Buffer, withId: boolean) =>
    seq(
      oid(P12.certBag),
      explicit(0, seq(oid(P12.x509Certificate), explicit(0, octetString(der)))),
      ...(withId ? [attrs] : []),
    );
  const certBags = seq(certBag(input.certificate, true), ...(input.chain ?? []).map((c) => certBag(c, false)));

  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const cipher = createCipheriv(
    'aes-256-cbc',
    pbkdf2Sync(Buffer.from(input.password, 'utf8'), salt, iterations, 32, 'sha256'),
    iv,
  );
  const encrypted = Buffer.concat([cipher.update(certBags), cipher.final()]);
  const encryptedData = seq(
    integer(0),
    seq(oid(P12.data), pbes2Params(salt, iterations, iv), implicitPrimitive(0, encrypted)),
  );

  const authSafe = seq(
    seq(oid(P12.encryptedData), explicit(0, encryptedData)),
    seq(oid(P12.data), explicit(0, octetString(keyBags))),
  );
  const macSalt = randomBytes(16);
  const macKey = pkcs12Kdf('sha256', 64, bmpPassword(input.password), macSalt, 3, iterations, 32);
  const mac = createHmac('sha256', macKey).update(authSafe).digest();
  return seq(
    integer(3),
    seq(oid(P12.data), explicit(0, octetString(authSafe))),
    seq(seq(seq(oid(P12.sha256), nullValue()), octetString(mac)), octetString(macSalt), integer(iterations)),
  );
}
