// Element boundaries in BER without decoding what is inside them (X.690 §8.1), and the one
// writing step that needs no schema: an element around parts already encoded. asn1js decodes a
// whole tree — every node of every certificate in a CMS — at about 0.3 µs a byte, and builds an
// object per node to write even a header, 10–60 µs an element. A PAdES signature and a time-stamp
// token went through a dozen such steps, which cost the built-in TSA 0.8 ms of CPU per token (see
// src/signing/README.md). This finds where the large opaque parts (certificates, CRLs, a
// time-stamp token) begin and end, and wraps encoded parts in a tag and a length; every value is
// still encoded and decoded by asn1-schema.
import { DerError } from './asn1.js';

export interface Tlv {
  /** The first byte: class, constructed bit and (low) tag number. */
  tag: number;
  /** Where the element starts (its identifier octet). */
  offset: number;
  /** Where its contents start and end (end excludes the end-of-contents octets of an indefinite length). */
  start: number;
  end: number;
  /** Where the whole element ends, end-of-contents octets included. */
  next: number;
}

const MAX_DEPTH = 64;

/** The element at `offset` in `buf`, within `limit`. */
export function readTlv(buf: Uint8Array, offset: number, limit = buf.length, what = 'BER', depth = 0): Tlv {
  if (depth > MAX_DEPTH) throw new DerError(what, 'nested too deeply');
  if (offset + 2 > limit) throw new DerError(what, 'truncated element');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError(what, 'high tag numbers are not used here');
  let pos = offset + 1;
  const first = buf[pos++]!;
  if (first === 0x80) {
    // Indefinite length (constructed only): the contents are elements up to 00 00.
    if (!(tag & 0x20)) throw new DerError(what, 'indefinite length on a primitive element');
    const start = pos;
    for (;;) {
      if (pos + 2 > limit) throw new DerError(what, 'missing end-of-contents');
      if (buf[pos] === 0 && buf[pos + 1] === 0) return { tag, offset, start, end: pos, next: pos + 2 };
      pos = readTlv(buf, pos, limit, what, depth + 1).next;
    }
  }
  let length = first;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count > 4) throw new DerError(what, 'length too large');
    if (pos + count > limit) throw new DerError(what, 'truncated length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[pos++]!;
  }
  if (pos + length > limit) throw new DerError(what, 'contents run past their container');
  return { tag, offset, start: pos, end: pos + length, next: pos + length };
}

/** The elements inside a constructed element. */
export function childrenOf(buf: Uint8Array, parent: Tlv, what = 'BER'): Tlv[] {
  const out: Tlv[] = [];
  for (let pos = parent.start; pos < parent.end;) {
    const child = readTlv(buf, pos, parent.end, what);
    out.push(child);
    pos = child.next;
    if (out.length > 100_000) throw new DerError(what, 'too many elements');
  }
  return out;
}

/** The bytes of a whole element. */
export const bytesOf = (buf: Buffer, tlv: Tlv): Buffer => buf.subarray(tlv.offset, tlv.next);

/** The DER length octets of `length` (X.690 §10.1: definite, shortest form). */
function lengthOctets(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** An element with tag `tag` (one octet) whose contents are `parts`, each already encoded. */
export function wrap(tag: number, parts: Uint8Array[]): Buffer {
  const length = parts.reduce((n, p) => n + p.length, 0);
  return Buffer.concat([Buffer.from([tag]), lengthOctets(length), ...parts]);
}

/** A DER SET OF: the encoded elements sorted as octet strings (X.690 §11.6). */
export const derSetOf = (items: Buffer[]): Buffer => wrap(0x31, [...items].sort(Buffer.compare));
