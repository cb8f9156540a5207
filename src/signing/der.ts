// A small DER (X.690) encoder and a bounds-checked reader. Certificates, CRLs, CMS and RFC 3161
// structures are built and read with these instead of a general ASN.1 library: the structures
// are few and fixed, and signing throughput depends on not building object trees per signature.

export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  enumerated: 0x0a,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  bmpString: 0x1e,
  sequence: 0x30,
  set: 0x31,
} as const;

// ---------------------------------------------------------------- encoding

function lengthBytes(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV with the given tag byte (low-tag-number form only, which is all these structures use). */
export function tlv(tag: number, ...content: Uint8Array[]): Buffer {
  const body = content.length === 1 ? content[0]! : Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

export const seq = (...items: Uint8Array[]): Buffer => tlv(TAG.sequence, ...items);

/** SET OF in DER order: X.690 §11.6 sorts the encodings as octet strings. */
export function setOf(...items: Uint8Array[]): Buffer {
  const sorted = [...items].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return tlv(TAG.set, ...sorted);
}

/** [n] EXPLICIT — a constructed context-specific wrapper. */
export const explicit = (n: number, ...content: Uint8Array[]): Buffer => tlv(0xa0 | n, ...content);
/** [n] IMPLICIT over a constructed type (SET, SEQUENCE). */
export const implicitConstructed = (n: number, ...content: Uint8Array[]): Buffer => tlv(0xa0 | n, ...content);
/** [n] IMPLICIT over a primitive type (OCTET STRING, IA5String …). */
export const implicitPrimitive = (n: number, content: Uint8Array): Buffer => tlv(0x80 | n, content);

export function integer(value: bigint | number | Uint8Array): Buffer {
  let bytes: Buffer;
  if (typeof value === 'number' || typeof value === 'bigint') {
    let n = BigInt(value);
    if (n < 0n) throw new Error('negative INTEGER not supported');
    const hex = n === 0n ? '00' : n.toString(16);
    bytes = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
    n = 0n;
  } else {
    // An unsigned big-endian magnitude: strip leading zeros, then keep it positive.
    let start = 0;
    while (start < value.length - 1 && value[start] === 0) start++;
    bytes = Buffer.from(value.subarray(start));
  }
  if (bytes.length === 0) bytes = Buffer.from([0]);
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(TAG.integer, bytes);
}

const oidCache = new Map<string, Buffer>();

export function oid(dotted: string): Buffer {
  let encoded = oidCache.get(dotted);
  if (!encoded) {
    encoded = encodeOid(dotted);
    if (oidCache.size < 1000) oidCache.set(dotted, encoded);
  }
  return encoded;
}

function encodeOid(dotted: string): Buffer {
  const parts = dotted.split('.').map((p) => BigInt(p));
  if (parts.length < 2) throw new Error(`bad OID ${dotted}`);
  const out: number[] = [];
  const push = (n: bigint) => {
    const chunk: number[] = [Number(n & 0x7fn)];
    for (let v = n >> 7n; v > 0n; v >>= 7n) chunk.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...chunk);
  };
  push(parts[0]! * 40n + parts[1]!);
  for (const p of parts.slice(2)) push(p);
  return tlv(TAG.oid, Buffer.from(out));
}

export const octetString = (bytes: Uint8Array): Buffer => tlv(TAG.octetString, bytes);
export const nullValue = (): Buffer => Buffer.from([0x05, 0x00]);
export const boolean = (value: boolean): Buffer => Buffer.from([0x01, 0x01, value ? 0xff : 0x00]);
export const utf8 = (text: string): Buffer => tlv(TAG.utf8String, Buffer.from(text, 'utf8'));
export const printable = (text: string): Buffer => tlv(TAG.printableString, Buffer.from(text, 'latin1'));
export const ia5 = (text: string): Buffer => tlv(TAG.ia5String, Buffer.from(text, 'latin1'));
export const bitString = (bytes: Uint8Array, unusedBits = 0): Buffer =>
  tlv(TAG.bitString, Buffer.from([unusedBits]), bytes);
export const enumerated = (value: number): Buffer => tlv(TAG.enumerated, integer(value).subarray(2));

/** A named-bit BIT STRING (KeyUsage, PKIFailureInfo): DER drops trailing zero bits (X.690 §11.2.2). */
export function namedBits(bits: number[]): Buffer {
  if (bits.length === 0) return bitString(Buffer.alloc(0));
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const bit of bits) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  return bitString(bytes, 7 - (highest & 7));
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** GeneralizedTime in UTC, with milliseconds only when non-zero (RFC 3161 §2.4.2, X.690 §11.7). */
export function generalizedTime(date: Date): Buffer {
  const ms = date.getUTCMilliseconds();
  const fraction = ms ? `.${pad(ms, 3).replace(/0+$/, '')}` : '';
  const text = `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}${fraction}Z`;
  return tlv(TAG.generalizedTime, Buffer.from(text, 'latin1'));
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050, always whole seconds. */
export function x509Time(date: Date): Buffer {
  const whole = new Date(Math.floor(date.getTime() / 1000) * 1000);
  const year = whole.getUTCFullYear();
  if (year >= 2050) return generalizedTime(whole);
  const text = `${pad(year % 100)}${pad(whole.getUTCMonth() + 1)}${pad(whole.getUTCDate())}${pad(whole.getUTCHours())}${pad(whole.getUTCMinutes())}${pad(whole.getUTCSeconds())}Z`;
  return tlv(TAG.utcTime, Buffer.from(text, 'latin1'));
}

// ---------------------------------------------------------------- reading

/** One decoded TLV; `start`/`end` delimit the content inside `buf`, `offset` the whole element. */
export interface Node {
  buf: Buffer;
  tag: number;
  offset: number;
  start: number;
  end: number;
}

export { DerError } from './asn1.js';
import { DerError } from './asn1.js';

/** Raised when a DER structure is malformed; `what` names the structure for the error message. */
export function derFail(what: string, detail: string): never {
  throw new DerError(what, detail);
}

export function readNode(buf: Buffer, offset: number, limit: number = buf.length, what = 'DER'): Node {
  if (offset + 2 > limit) derFail(what, 'truncated header');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) derFail(what, 'high tag numbers are not used here');
  let pos = offset + 1;
  let length = buf[pos++]!;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4) derFail(what, 'unsupported length');
    if (pos + count > limit) derFail(what, 'truncated length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[pos++]!;
  }
  if (pos + length > limit) derFail(what, 'content runs past its container');
  return { buf, tag, offset, start: pos, end: pos + length };
}

export const contentOf = (node: Node): Buffer => node.buf.subarray(node.start, node.end);
export const encodingOf = (node: Node): Buffer => node.buf.subarray(node.offset, node.end);

export function parseDer(buf: Buffer, what = 'DER'): Node {
  const node = readNode(buf, 0, buf.length, what);
  return node;
}

/** The children of a constructed node. */
export function childrenOf(node: Node, what = 'DER'): Node[] {
  const out: Node[] = [];
  for (let pos = node.start; pos < node.end;) {
    const child = readNode(node.buf, pos, node.end, what);
    out.push(child);
    pos = child.end;
    if (out.length > 100_000) derFail(what, 'too many elements');
  }
  return out;
}

export function expectTag(node: Node | undefined, tag: number, what: string): Node {
  if (!node) derFail(what, `missing element (expected tag 0x${tag.toString(16)})`);
  if (node.tag !== tag) derFail(what, `expected tag 0x${tag.toString(16)}, found 0x${node.tag.toString(16)}`);
  return node;
}

export function readOid(node: Node, what = 'OID'): string {
  expectTag(node, TAG.oid, what);
  const bytes = contentOf(node);
  const parts: bigint[] = [];
  let value = 0n;
  for (const byte of bytes) {
    value = (value << 7n) | BigInt(byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(value);
      value = 0n;
    }
  }
  if (parts.length === 0) derFail(what, 'empty OID');
  const first = parts[0]!;
  const head = first < 80n ? [first / 40n, first % 40n] : [2n, first - 80n];
  return [...head, ...parts.slice(1)].join('.');
}

export function readInteger(node: Node, what = 'INTEGER'): bigint {
  expectTag(node, TAG.integer, what);
  const bytes = contentOf(node);
  if (bytes.length === 0) derFail(what, 'empty INTEGER');
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  if (bytes[0]! & 0x80) n -= 1n << BigInt(bytes.length * 8);
  return n;
}

export function readTime(node: Node, what = 'time'): Date {
  const text = contentOf(node).toString('latin1');
  let m: RegExpMatchArray | null;
  if (node.tag === TAG.utcTime && (m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?Z$/.exec(text))) {
    const yy = Number(m[1]);
    return new Date(
      Date.UTC(
        yy >= 50 ? 1900 + yy : 2000 + yy,
        Number(m[2]) - 1,
        Number(m[3]),
        Number(m[4]),
        Number(m[5]),
        Number(m[6] ?? 0),
      ),
    );
  }
  if (
    node.tag === TAG.generalizedTime &&
    (m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:[.,](\d{1,9}))?Z$/.exec(text))
  ) {
    const ms = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
    return new Date(
      Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0), ms),
    );
  }
  return derFail(what, `unreadable time ${JSON.stringify(text)}`);
}

/** Text of a directory string (UTF8String, PrintableString, IA5String, BMPString …). */
export function readString(node: Node): string {
  const bytes = contentOf(node);
  if (node.tag === TAG.bmpString && bytes.length % 2 === 0) return Buffer.from(bytes).swap16().toString('utf16le');
  if (node.tag === TAG.utf8String) return bytes.toString('utf8');
  return bytes.toString('latin1');
}
