// Element boundaries in BER without decoding what is inside them (X.690 §8.1). asn1js decodes a
// whole tree — every node of every certificate in a CMS — at about 0.3 µs a byte; verifying a
// PAdES signature that way cost five times the CPU of the former reader (see the bench note in
// src/signing/README.md). This finds where the large opaque parts (certificates, CRLs, a
// time-stamp token) begin and end, so only the fields the verifier reads go through asn1-schema.
// It decodes nothing itself: no tags beyond their number, no values.
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
