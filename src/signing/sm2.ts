// SM2 signatures (GB/T 32918.2) and SM3 (GB/T 32905) for the national-cryptography profile.
// Node's own crypto hashes SM3 and holds SM2 keys, but signs with an empty distinguishing ID
// (or plain ECDSA on the SM2 curve) and cannot be told the standard one, so the signature
// arithmetic comes from `sm-crypto-v2` (on @noble/curves) while keys stay PKCS#8 KeyObjects
// that the key vault seals like any other. Z is computed once per key; e = SM3(Z ‖ M) by Node.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { ECDSASigValue, ECPrivateKey } from '@peculiar/asn1-ecc';
import { PrivateKeyInfo } from '@peculiar/asn1-pkcs8';
import { SubjectPublicKeyInfo } from '@peculiar/asn1-x509';
import { sm2 } from 'sm-crypto-v2';
import { Memo, ecdsaSignatureDer, encode, integerValue, readOid, toBuffer } from './asn1.js';
import { SigningError } from './errors.js';
import { OID } from './oids.js';

/** GM/T 0009 §10 / GB/T 35276 §7: the user ID every national CA and verifier assumes. */
export const SM2_DEFAULT_ID = '1234567812345678';

/** The order n of the SM2 curve's base point (GB/T 32918.5). */
const SM2_N = BigInt('0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123');

export const sm3 = (data: Uint8Array): Buffer => createHash('sm3').update(data).digest();

/** The uncompressed public point (04 ‖ x ‖ y, 65 bytes) of an SM2 SubjectPublicKeyInfo, or null if it is not SM2. */
export function sm2PointOf(spki: Uint8Array): Buffer | null {
  return sm2Points.get(Buffer.from(spki).toString('base64'), () => {
    let info: SubjectPublicKeyInfo;
    try {
      info = AsnConvert.parse(spki, SubjectPublicKeyInfo);
    } catch {
      return null;
    }
    if (info.algorithm.algorithm !== OID.ecPublicKey || !info.algorithm.parameters) return null;
    let curve: string;
    try {
      curve = readOid(new Uint8Array(info.algorithm.parameters), 'EC parameters');
    } catch {
      return null;
    }
    if (curve !== OID.sm2Curve) return null;
    const point = toBuffer(info.subjectPublicKey);
    return isPointOnCurve(point) ? point : null;
  });
}
const sm2Points = new Memo<Buffer | null>(1_000);

/** Whether `spki` names the SM2 curve at all (a point off the curve still counts: it is then refused by name). */
export function isSm2Spki(spki: Uint8Array): boolean {
  try {
    const info = AsnConvert.parse(spki, SubjectPublicKeyInfo);
    return (
      info.algorithm.algorithm === OID.ecPublicKey &&
      !!info.algorithm.parameters &&
      readOid(new Uint8Array(info.algorithm.parameters), 'EC parameters') === OID.sm2Curve
    );
  } catch {
    return false;
  }
}

function isPointOnCurve(point: Buffer): boolean {
  if (point.length !== 65 || point[0] !== 0x04) return false;
  try {
    return sm2.verifyPublicKey(point.toString('hex'));
  } catch {
    return false;
  }
}

/** Z_A = SM3(ENTL ‖ ID ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A) (GB/T 32918.2 §5.5), per point and ID. */
const zValues = new Memo<Buffer>(1_000);
export function sm2Z(point: Buffer, userId = SM2_DEFAULT_ID): Buffer {
  return zValues.get(`${userId}:${point.toString('hex')}`, () => toBuffer(sm2.getZ(point.toString('hex'), userId)));
}

/** e = SM3(Z ‖ M): the value the SM2 equations sign. */
const messageDigest = (point: Buffer, data: Uint8Array, userId: string) =>
  createHash('sm3').update(sm2Z(point, userId)).update(data).digest();

/** SM2 signature values are DER SEQUENCE { r, s } (GB/T 35276 §7.3), with 1 ≤ r, s ≤ n − 1 (GB/T 32918.2 §7.1 B1–B2). */
function readSignature(der: Uint8Array): { r: bigint; s: bigint } | null {
  if (der.length > 80) return null;
  let value: ECDSASigValue;
  try {
    value = AsnConvert.parse(der, ECDSASigValue);
  } catch {
    return null;
  }
  // Only the DER form counts: a BER variant (long lengths, padded integers) is another byte string
  // for the same signature, which would let a copy pass as a different signature.
  const rBytes = new Uint8Array(value.r);
  const sBytes = new Uint8Array(value.s);
  if (!isMinimalInteger(rBytes) || !isMinimalInteger(sBytes) || !encode(value).equals(Buffer.from(der))) return null;
  const r = integerValue(rBytes);
  const s = integerValue(sBytes);
  if (r < 1n || r >= SM2_N || s < 1n || s >= SM2_N) return null;
  return { r, s };
}

/** X.690 §8.3.2: the first nine bits of an INTEGER's contents are never all zero or all one. */
function isMinimalInteger(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return false;
  if (bytes.length === 1) return true;
  return !(bytes[0] === 0 && !(bytes[1]! & 0x80)) && !(bytes[0] === 0xff && bytes[1]! & 0x80);
}

const pointCache = new Memo<ReturnType<typeof sm2.precomputePublicKey>>(64);

/**
 * Whether `signature` (DER) is an SM2 signature over `data` by the key in `spki`, with the
 * standard user ID unless another is given. False for anything that is not SM2.
 */
export function verifySm2(spki: Uint8Array, data: Uint8Array, signature: Uint8Array, userId = SM2_DEFAULT_ID): boolean {
  const point = sm2PointOf(spki);
  if (!point) return false;
  const rs = readSignature(signature);
  if (!rs) return false;
  const hex = point.toString('hex');
  try {
    // Precomputed multiples of a key that verifies often (a CA, a seal maker) save most of the work.
    const precomputed = pointCache.get(hex, () => sm2.precomputePublicKey(hex, 4));
    const rsHex = rs.r.toString(16).padStart(64, '0') + rs.s.toString(16).padStart(64, '0');
    return sm2.doVerifySignature(messageDigest(point, data, userId), rsHex, precomputed, { der: false, hash: false });
  } catch {
    return false;
  }
}

/** The private scalar and public point of an SM2 key held in a KeyObject, or null when the key is not SM2. */
export function sm2KeyOf(key: KeyObject): { d: bigint; point: Buffer; spki: Buffer } | null {
  if (key.type !== 'private') return null;
  // Node names a generated SM2 key 'ec' on curve 'SM2', and a re-imported one has no type at all
  // (OpenSSL's SM2 key type), so the PKCS#8 itself says which curve it is.
  if (key.asymmetricKeyType !== undefined && key.asymmetricKeyDetails?.namedCurve !== 'SM2') return null;
  let info: PrivateKeyInfo;
  let ecKey: ECPrivateKey;
  try {
    info = AsnConvert.parse(key.export({ format: 'der', type: 'pkcs8' }), PrivateKeyInfo);
    ecKey = AsnConvert.parse(info.privateKey, ECPrivateKey);
  } catch {
    return null;
  }
  const params = info.privateKeyAlgorithm.parameters;
  if (info.privateKeyAlgorithm.algorithm !== OID.ecPublicKey || !params) return null;
  if (readOid(new Uint8Array(params), 'EC parameters') !== OID.sm2Curve) return null;
  const d = integerValue(new Uint8Array([0, ...new Uint8Array(ecKey.privateKey.buffer)]));
  // GB/T 32918.1 §6.1: d ∈ [1, n − 2]; (1 + d) must be invertible for the signature equation.
  if (d < 1n || d > SM2_N - 2n) throw new SigningError('signing_key_invalid', 'The SM2 private key is out of range.');
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  const point = sm2PointOf(spki);
  if (!point) throw new SigningError('signing_key_invalid', 'The SM2 public key is not a point on the curve.');
  return { d, point, spki };
}

/** Signs `data` with SM2 (ID 1234567812345678, SM3), returning DER SEQUENCE { r, s }. */
export function signSm2(key: { d: bigint; point: Buffer }, data: Uint8Array, userId = SM2_DEFAULT_ID): Buffer {
  const e = messageDigest(key.point, data, userId);
  // sm-crypto-v2 draws k from crypto.getRandomValues (GB/T 32918.2 §6.1 A3) and retries r = 0,
  // r + k = n and s = 0 itself.
  const rs = sm2.doSignature(e, key.d.toString(16).padStart(64, '0'), { der: false, hash: false });
  return ecdsaSignatureDer(Buffer.from(rs.slice(0, 64), 'hex'), Buffer.from(rs.slice(64), 'hex'));
}
