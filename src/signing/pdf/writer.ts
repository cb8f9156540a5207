// Incremental updates (ISO 32000-1 §7.5.6): new and changed objects are appended after the
// original bytes with a cross-reference section whose /Prev points at the previous one. The
// original bytes are never touched, so every earlier signature keeps its ByteRange (Invariant 5).
import { PdfDict, PdfRef, PdfStream, isNumber, name, objectBytes, valueText, type PdfValue } from './objects.js';
import type { PdfDocument } from './parser.js';

interface Written {
  num: number;
  gen: number;
  bytes: Buffer;
}

export class IncrementalUpdate {
  private readonly objects: Written[] = [];
  private nextNum: number;

  constructor(readonly doc: PdfDocument) {
    this.nextNum = doc.size;
  }

  /** A fresh object number for an object written later with `set` (forward references). */
  allocate(): PdfRef {
    return new PdfRef(this.nextNum++, 0);
  }

  add(value: PdfValue): PdfRef {
    const ref = this.allocate();
    this.set(ref, value);
    return ref;
  }

  /** Writes (or rewrites, when `ref` already exists in the file) an object. */
  set(ref: PdfRef, value: PdfValue): void {
    this.setRaw(ref, objectBytes(ref, value));
  }

  /** An object whose bytes the caller composed (the signature dictionary and its placeholders). */
  setRaw(ref: PdfRef, bytes: Buffer): void {
    const existing = this.objects.findIndex((o) => o.num === ref.num);
    const entry = { num: ref.num, gen: ref.gen, bytes };
    if (existing >= 0) this.objects[existing] = entry;
    else this.objects.push(entry);
  }

  has(ref: PdfRef): boolean {
    return this.objects.some((o) => o.num === ref.num);
  }

  /**
   * The bytes to append to the document. `offsetOf(num)` afterwards tells where each object
   * starts inside the returned buffer (to find placeholders).
   */
  build(): { bytes: Buffer; objectOffsets: Map<number, number> } {
    const base = this.doc.buf.length;
    const parts: Buffer[] = [];
    let pos = base;
    // The update starts on a new line even when the file does not end with one.
    const last = this.doc.buf[base - 1];
    if (last !== 0x0a && last !== 0x0d) {
      parts.push(Buffer.from('\n'));
      pos++;
    }
    const offsets = new Map<number, number>();
    const sorted = [...this.objects].sort((a, b) => a.num - b.num);
    for (const o of sorted) {
      offsets.set(o.num, pos - base);
      parts.push(o.bytes);
      pos += o.bytes.length;
    }
    const prevTrailer = this.doc.trailer;
    const trailer = new PdfDict();
    const size = Math.max(this.nextNum, this.doc.size);
    for (const key of ['Root', 'Info', 'ID']) {
      const v = prevTrailer.get(key);
      if (v !== undefined) trailer.set(key, v);
    }
    trailer.set('Prev', this.doc.lastXrefOffset);
    const xrefStart = pos;
    if (this.doc.sections[0]!.isStream) {
      // A file whose newest section is a stream gets a stream again (§7.5.8.4 readers expect it).
      const xrefRef = new PdfRef(size, 0);
      const rows = [
        ...sorted.map((o) => ({ num: o.num, offset: offsets.get(o.num)! + base, gen: o.gen })),
        { num: xrefRef.num, offset: xrefStart, gen: 0 },
      ];
      const data = Buffer.alloc(rows.length * 7);
      rows.forEach((r, i) => {
        data[i * 7] = 1;
        data.writeUInt32BE(r.offset, i * 7 + 1);
        data.writeUInt16BE(r.gen, i * 7 + 5);
      });
      const dict = trailer
        .set('Type', name('XRef'))
        .set('Size', size + 1)
        .set('W', [1, 4, 2])
        .set('Index', subsections(rows.map((r) => r.num)));
      parts.push(objectBytes(xrefRef, new PdfStream(dict, data)));
    } else {
      let text = 'xref\n';
      const nums = sorted.map((o) => o.num);
      const ranges = subsections(nums) as number[];
      let k = 0;
      for (let r = 0; r < ranges.length; r += 2) {
        const count = ranges[r + 1]!;
        text += `${ranges[r]} ${count}\n`;
        for (let i = 0; i < count; i++, k++) {
          const o = sorted[k]!;
          text += `${String(offsets.get(o.num)! + base).padStart(10, '0')} ${String(o.gen).padStart(5, '0')} n\r\n`;
        }
      }
      trailer.set('Size', size);
      text += `trailer\n${valueText(trailer)}\n`;
      parts.push(Buffer.from(text, 'latin1'));
    }
    parts.push(Buffer.from(`startxref\n${xrefStart}\n%%EOF\n`, 'latin1'));
    return { bytes: Buffer.concat(parts), objectOffsets: offsets };
  }
}

/** Sorted object numbers as [start count start count …] runs. */
function subsections(nums: number[]): PdfValue[] {
  const sorted = [...nums].sort((a, b) => a - b);
  const out: number[] = [];
  for (const n of sorted) {
    const len = out.length;
    if (len >= 2 && out[len - 2]! + out[len - 1]! === n) out[len - 1]!++;
    else out.push(n, 1);
  }
  return out;
}

export const numberOr = (v: PdfValue | undefined, fallback: number): number => (isNumber(v) ? v : fallback);
