// ASN.1 for the signing engine on @peculiar/asn1-schema (and asn1js under it): bounded parsing that
// names what failed, DER encoding, and the few schemas the @peculiar packages do not declare —
// ESS signing-certificate-v2 (RFC 5035), Adobe's revocation-info archival attribute, and a
// SignedData whose certificates and CRLs stay as raw encodings (asn1-cms models no CRL choice).
// Schemas are declared by calling the decorators as functions, so no compiler option is needed.
import {
  AsnArray,
  AsnConvert,
  AsnIntegerArrayBufferConverter,
  AsnProp,
  AsnPropTypes,
  AsnType,
  AsnTypeTypes,
  OctetString,
} from '@peculiar/asn1-schema';
import { ECDSASigValue } from '@peculiar/asn1-ecc';
import { AlgorithmIdentifier, GeneralName } from '@peculiar/asn1-x509';
import * as asn1js from 'asn1js';
import { SigningError } from './errors.js';

export class DerError extends SigningError {
  constructor(what: string, detail: string) {
    super('signing_key_invalid', `${what}: ${detail}`);
    this.name = 'DerError';
  }
}

/** Limits for untrusted input; CRLs of large CAs need many nodes, nothing needs deep nesting. */
export const BER_LIMITS = { maxDepth: 64, maxNodes: 4_000_000, maxContentLength: 64 * 1024 * 1024 };

/** Parses `der` (BER accepted) as `type`, naming `what` in the error; at most `limit` bytes. */
export function parseAs<T>(der: Uint8Array, type: new () => T, what: string, limit = 256 * 1024): T {
  if (der.length > limit) throw new DerError(what, `larger than ${limit} bytes`);
  try {
    return AsnConvert.parse(der, type, { berOptions: BER_LIMITS });
  } catch (error) {
    throw new DerError(what, error instanceof Error ? error.message : String(error));
  }
}

export const toBuffer = (data: ArrayBuffer | ArrayBufferView): Buffer =>
  ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);

/** DER of a schema object. */
export const encode = (value: unknown): Buffer => toBuffer(AsnConvert.serialize(value));

/** Copies the bytes into an ArrayBuffer of their own, as the schema classes hold them. */
export const arrayBuffer = (data: Uint8Array): ArrayBuffer =>
  data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;

/** Two's-complement INTEGER content octets as a bigint. */
export function integerValue(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  let n = BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
  if (bytes[0]! & 0x80) n -= 1n << BigInt(bytes.length * 8);
  return n;
}

/** The content octets of a non-negative INTEGER in DER (minimal, a leading zero when the high bit is set). */
export function integerBytes(value: bigint | number): ArrayBuffer {
  const n = BigInt(value);
  if (n < 0n) throw new Error('negative INTEGER not supported');
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  if (parseInt(hex.slice(0, 2), 16) & 0x80) hex = `00${hex}`;
  return arrayBuffer(Buffer.from(hex, 'hex'));
}

/** A named-bit BIT STRING's octets (KeyUsage, PKIFailureInfo): DER drops trailing zero bits (X.690 §11.2.2). */
export function namedBits(bits: number[]): { bytes: ArrayBuffer; unusedBits: number } {
  if (bits.length === 0) return { bytes: new ArrayBuffer(0), unusedBits: 0 };
  const highest = Math.max(...bits);
  const bytes = new Uint8Array(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  return { bytes: bytes.buffer, unusedBits: 7 - (highest & 7) };
}

/** ECDSA-Sig-Value (RFC 5480 §2.2.3: SEQUENCE { r, s }) from the unsigned big-endian r and s a token returns. */
export function ecdsaSignatureDer(r: Uint8Array, s: Uint8Array): Buffer {
  const unsigned = (bytes: Uint8Array) => BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
  return encode(new ECDSASigValue({ r: integerBytes(unsigned(r)), s: integerBytes(unsigned(s)) }));
}

/** DER of a non-negative INTEGER of any size. */
export const integerDer = (value: bigint | number): Buffer =>
  toBuffer(new asn1js.Integer({ valueHex: integerBytes(value) }).toBER());

/** A DER INTEGER of any size (cRLNumber may be 20 octets, more than a JavaScript number holds). */
export function readInteger(der: Uint8Array, what: string): bigint {
  const parsed = asn1js.fromBER(der);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Integer)) throw new DerError(what, 'not an INTEGER');
  return integerValue(parsed.result.valueBlock.valueHexView);
}

/**
 * A bounded memo for pure functions of small encodings (an OID, an algorithm identifier, a
 * signer's identifier): the same few values recur in every signature, and decoding them through
 * asn1js costs tens of microseconds each time.
 */
export class Memo<T> {
  private readonly map = new Map<string, T>();
  constructor(private readonly size = 1_000) {}
  get(key: string, compute: () => T): T {
    const known = this.map.get(key);
    if (known !== undefined) return known;
    const value = compute();
    if (this.map.size >= this.size) this.map.delete(this.map.keys().next().value!);
    this.map.set(key, value);
    return value;
  }
}

const oids = new Memo<string>();

/** DER of an OBJECT IDENTIFIER (attribute values, PKCS#11 EC parameters). */
export const oidDer = (oid: string): Buffer => toBuffer(new asn1js.ObjectIdentifier({ value: oid }).toBER());
/** The dotted form of a DER OBJECT IDENTIFIER. */
export function readOid(der: Uint8Array, what: string): string {
  return oids.get(Buffer.from(der).toString('hex'), () => {
    const parsed = asn1js.fromBER(der);
    if (parsed.offset === -1 || !(parsed.result instanceof asn1js.ObjectIdentifier))
      throw new DerError(what, 'not an OBJECT IDENTIFIER');
    return parsed.result.valueBlock.toString();
  });
}
/** DER of an OCTET STRING. */
export const octetStringDer = (bytes: Uint8Array): Buffer => encode(new OctetString(bytes));
/** The content of a DER OCTET STRING (also constructed BER ones). */
export function readOctetString(der: Uint8Array, what: string): Buffer {
  try {
    return toBuffer(AsnConvert.parse(der, OctetString).buffer);
  } catch (error) {
    throw new DerError(what, error instanceof Error ? error.message : String(error));
  }
}

/**
 * Re-encodes BER as DER where that means definite lengths: signatures are made over the DER
 * of signed attributes (RFC 5652 §5.4) even when a signer sends them with indefinite lengths.
 */
export function definiteLengths(ber: Uint8Array): Buffer {
  if (ber.length < 2 || ber[1] !== 0x80) return Buffer.from(ber);
  const parsed = asn1js.fromBER(ber, BER_LIMITS);
  if (parsed.offset === -1) throw new DerError('BER', parsed.result.error || 'unreadable');
  const walk = (node: asn1js.AsnType) => {
    const block = node as asn1js.BaseBlock;
    block.lenBlock.isIndefiniteForm = false;
    const holder = block.valueBlock as unknown as { value?: unknown };
    if (Array.isArray(holder.value)) {
      // End-of-content markers belong to the indefinite form only.
      const children = (holder.value as asn1js.AsnType[]).filter((v) => !(v instanceof asn1js.EndOfContent));
      holder.value = children;
      for (const child of children) walk(child);
    }
  };
  walk(parsed.result);
  return toBuffer(parsed.result.toBER());
}

// ---------------------------------------------------------------- schemas not in the @peculiar packages

/** Declares a schema class's fields, in order (the decorators, called as functions). */
export function declareSchema<T>(
  type: new () => T,
  fields: Array<[keyof T & string, Parameters<typeof AsnProp>[0]]>,
): void {
  for (const [name, options] of fields) AsnProp(options)(type.prototype as object, name);
}

/** IssuerSerial (RFC 5035 §5.4.1). */
export class IssuerSerial {
  issuer: GeneralName[] = [];
  serialNumber: ArrayBuffer = new ArrayBuffer(0);
  constructor(params: Partial<IssuerSerial> = {}) {
    Object.assign(this, params);
  }
}
declareSchema(IssuerSerial, [
  ['issuer', { type: GeneralName, repeated: 'sequence' }],
  ['serialNumber', { type: AsnPropTypes.Integer, converter: AsnIntegerArrayBufferConverter }],
]);

/** ESSCertIDv2 (RFC 5035 §4): hashAlgorithm DEFAULT SHA-256 is left out in DER when it is SHA-256. */
export class EssCertIdV2 {
  hashAlgorithm?: AlgorithmIdentifier;
  certHash: OctetString = new OctetString();
  issuerSerial?: IssuerSerial;
  constructor(params: Partial<EssCertIdV2> = {}) {
    Object.assign(this, params);
  }
}
declareSchema(EssCertIdV2, [
  ['hashAlgorithm', { type: AlgorithmIdentifier, optional: true }],
  ['certHash', { type: OctetString }],
  ['issuerSerial', { type: IssuerSerial, optional: true }],
]);

/** ESSCertID (RFC 2634 §5.4.1), SHA-1, in signing-certificate (v1). */
export class EssCertId {
  certHash: OctetString = new OctetString();
  issuerSerial?: IssuerSerial;
  constructor(params: Partial<EssCertId> = {}) {
    Object.assign(this, params);
  }
}
declareSchema(EssCertId, [
  ['certHash', { type: OctetString }],
  ['issuerSerial', { type: IssuerSerial, optional: true }],
]);

/** SigningCertificateV2 (RFC 5035 §3); policies are not written and ignored when read. */
export class SigningCertificateV2 {
  certs: EssCertIdV2[] = [];
  policies?: ArrayBuffer;
  constructor(params: Partial<SigningCertificateV2> = {}) {
    Object.assign(this, params);
  }
}
declareSchema(SigningCertificateV2, [
  ['certs', { type: EssCertIdV2, repeated: 'sequence' }],
  ['policies', { type: AsnPropTypes.Any, optional: true }],
]);

export class SigningCertificate {
  certs: EssCertId[] = [];
  policies?: ArrayBuffer;
  constructor(params: Partial<SigningCertificate> = {}) {
    Object.assign(this, params);
  }
}
declareSchema(SigningCertificate, [
  ['certs', { type: EssCertId, repeated: 'sequence' }],
  ['policies', { type: AsnPropTypes.Any, optional: true }],
]);

/**
 * An element kept as its encoding: read without decoding what lies inside, written back byte for
 * byte. Certificates, CRLs and whole SignerInfos ride through SignedData this way, so signing
 * never re-parses a certificate and reading never re-encodes one (asn1-schema's Any does both).
 */
export class RawElement {
  bytes: ArrayBuffer = new ArrayBuffer(0);
  constructor(bytes?: ArrayBuffer | Uint8Array) {
    if (bytes) this.bytes = bytes instanceof ArrayBuffer ? bytes : arrayBuffer(bytes);
  }
  fromASN(asn: asn1js.AsnType): this {
    this.bytes = arrayBuffer((asn as asn1js.BaseBlock).valueBeforeDecodeView);
    return this;
  }
  toASN(): asn1js.AsnType {
    return new PreEncoded(this.bytes);
  }
  toSchema(name: string): asn1js.Any {
    return new asn1js.Any({ name });
  }
}

/** An asn1js block that writes bytes encoded elsewhere. */
class PreEncoded extends asn1js.BaseBlock {
  constructor(private readonly bytes: ArrayBuffer) {
    super();
  }
  override toBER(_sizeOnly?: boolean, writer?: { write(buf: ArrayBuffer): void }): ArrayBuffer {
    writer?.write(this.bytes);
    return this.bytes;
  }
}

/** A SET OF raw elements (certificates, CRLs, signer infos). */
export class RawSet extends AsnArray<RawElement> {
  constructor(items?: RawElement[]) {
    super(items);
    Object.setPrototypeOf(this, RawSet.prototype);
  }
}
AsnType({ type: AsnTypeTypes.Set, itemType: RawElement })(RawSet);

/** A SEQUENCE OF raw elements. */
export class RawSequence extends AsnArray<RawElement> {
  constructor(items?: RawElement[]) {
    super(items);
    Object.setPrototypeOf(this, RawSequence.prototype);
  }
}
AsnType({ type: AsnTypeTypes.Sequence, itemType: RawElement })(RawSequence);

/**
 * Adobe's RevocationInfoArchival (ISO 32000-1 §12.8.3.3.2): CRLs [0], OCSP responses [1] and
 * other [2], each a SEQUENCE OF; only the CRLs are read here.
 */
export class RevocationInfoArchival {
  crl?: RawSequence;
  ocsp?: RawSequence;
  other?: RawSequence;
}
declareSchema(RevocationInfoArchival, [
  ['crl', { type: RawSequence, context: 0, optional: true }],
  ['ocsp', { type: RawSequence, context: 1, optional: true }],
  ['other', { type: RawSequence, context: 2, optional: true }],
]);
