// A lean, bounded PDF reader (ISO 32000-1 §7.2–7.5): only what signing and verification need.
// It reads the cross-reference chain (tables, streams, hybrids), objects on demand (including
// those inside object streams), and the page tree. Every loop and recursion has a limit, so a
// hostile file ends in a typed error, never a hang or unbounded memory.
import { decodeStream, type DecodeBudget } from './filters.js';
import { pdfError } from './errors.js';
import {
  PdfDict,
  PdfName,
  PdfRef,
  PdfStream,
  PdfString,
  isDict,
  isName,
  isNumber,
  isRef,
  type PdfValue,
} from './objects.js';

export interface PdfLimits {
  maxFileBytes: number;
  /** Highest object number accepted (cross-reference /Size). */
  maxObjects: number;
  maxStreamBytes: number;
  /** Total decoded bytes per document (decompression bombs). */
  maxDecodedBytes: number;
  /** Nesting of arrays and dictionaries. */
  maxDepth: number;
  /** Cross-reference sections (revisions) followed through /Prev. */
  maxXrefSections: number;
  maxPages: number;
}

export const DEFAULT_LIMITS: PdfLimits = {
  maxFileBytes: 512 * 1024 * 1024,
  maxObjects: 5_000_000,
  maxStreamBytes: 128 * 1024 * 1024,
  maxDecodedBytes: 512 * 1024 * 1024,
  maxDepth: 100,
  maxXrefSections: 5_000,
  maxPages: 100_000,
};

const WS = new Uint8Array(256);
for (const c of [0x00, 0x09, 0x0a, 0x0c, 0x0d, 0x20]) WS[c] = 1;
const DELIM = new Uint8Array(256);
for (const c of '()<>[]{}/%') DELIM[c.charCodeAt(0)] = 1;
const isDigit = (c: number | undefined) => c !== undefined && c >= 0x30 && c <= 0x39;

/** A keyword or content-stream operator. */
export class PdfOp {
  constructor(readonly value: string) {}
}

export class Lexer {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
    readonly maxDepth: number,
  ) {}

  skipWs(): void {
    const { buf, end } = this;
    while (this.pos < end) {
      const c = buf[this.pos]!;
      if (WS[c]) this.pos++;
      else if (c === 0x25) {
        while (this.pos < end && buf[this.pos] !== 0x0a && buf[this.pos] !== 0x0d) this.pos++;
      } else break;
    }
  }

  private fail(what: string): never {
    return pdfError('pdf_malformed', `${what} at byte ${this.pos}`);
  }

  readRegular(): string {
    const start = this.pos;
    while (this.pos < this.end && !WS[this.buf[this.pos]!] && !DELIM[this.buf[this.pos]!]) this.pos++;
    return this.buf.toString('latin1', start, this.pos);
  }

  /** Reads a keyword such as `obj`, `R`, `stream`, or a content operator. */
  readKeyword(): string {
    this.skipWs();
    return this.readRegular();
  }

  readInt(): number | null {
    this.skipWs();
    const start = this.pos;
    while (isDigit(this.buf[this.pos]) && this.pos < this.end) this.pos++;
    if (this.pos === start || this.pos - start > 15) return null;
    return Number(this.buf.toString('latin1', start, this.pos));
  }

  /** One value; in `content` mode an operator (`PdfOp`) is a value too. */
  readValue(depth = 0, content = false): PdfValue | PdfOp {
    if (depth > this.maxDepth) pdfError('pdf_too_large', 'objects are nested too deeply');
    this.skipWs();
    if (this.pos >= this.end) this.fail('unexpected end of data');
    const c = this.buf[this.pos]!;
    switch (c) {
      case 0x2f: // /
        this.pos++;
        return PdfName.of(this.readName());
      case 0x28: // (
        return this.readLiteral();
      case 0x3c: // <
        if (this.buf[this.pos + 1] === 0x3c) return this.readDict(depth, content);
        return this.readHex();
      case 0x5b: // [
        return this.readArray(depth, content);
      default:
        break;
    }
    if (isDigit(c) || c === 0x2b || c === 0x2d || c === 0x2e) {
      const start = this.pos;
      const n = this.readNumber();
      if (!content && Number.isInteger(n) && n >= 0 && isDigit(c)) {
        // `num gen R`: look ahead without consuming unless it matches.
        const save = this.pos;
        const gen = this.readInt();
        if (gen !== null) {
          this.skipWs();
          if (
            this.buf[this.pos] === 0x52 &&
            (this.pos + 1 >= this.end || WS[this.buf[this.pos + 1]!] || DELIM[this.buf[this.pos + 1]!])
          ) {
            this.pos++;
            return new PdfRef(n, gen);
          }
        }
        this.pos = save;
      }
      if (Number.isNaN(n)) {
        this.pos = start + 1;
        return 0;
      }
      return n;
    }
    if (c === 0x29 || c === 0x3e || c === 0x5d || c === 0x7b || c === 0x7d) {
      if (content) {
        this.pos++;
        return new PdfOp(String.fromCharCode(c));
      }
      this.fail(`unexpected "${String.fromCharCode(c)}"`);
    }
    const word = this.readRegular();
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'null') return null;
    if (content) return new PdfOp(word);
    return this.fail(`unexpected keyword "${word.slice(0, 20)}"`);
  }

  private readNumber(): number {
    const start = this.pos;
    const { buf } = this;
    if (buf[this.pos] === 0x2b || buf[this.pos] === 0x2d) this.pos++;
    while (this.pos < this.end && (isDigit(buf[this.pos]) || buf[this.pos] === 0x2e)) this.pos++;
    // Tolerate doubled signs and stray signs some producers write (`--5`, `5-`), as readers do.
    while (this.pos < this.end && (buf[this.pos] === 0x2d || buf[this.pos] === 0x2b)) this.pos++;
    const text = buf.toString('latin1', start, this.pos).replace(/(?<=.)[+-]+/g, '');
    const n = Number(
      text === '-' || text === '+' || text === '.' ? 'NaN' : text.startsWith('--') ? text.slice(1) : text,
    );
    return n;
  }

  private readName(): string {
    const raw = this.readRegular();
    if (!raw.includes('#')) return raw;
    return raw.replace(/#([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }

  private readLiteral(): PdfString {
    const { buf, end } = this;
    this.pos++;
    const out: number[] = [];
    let depth = 1;
    while (this.pos < end) {
      let c = buf[this.pos++]!;
      if (c === 0x5c) {
        if (this.pos >= end) break;
        c = buf[this.pos++]!;
        switch (c) {
          case 0x6e:
            out.push(0x0a);
            break;
          case 0x72:
            out.push(0x0d);
            break;
          case 0x74:
            out.push(0x09);
            break;
          case 0x62:
            out.push(0x08);
            break;
          case 0x66:
            out.push(0x0c);
            break;
          case 0x0d:
            if (buf[this.pos] === 0x0a) this.pos++;
            break;
          case 0x0a:
            break;
          default:
            if (c >= 0x30 && c <= 0x37) {
              let v = c - 0x30;
              for (let k = 0; k < 2 && buf[this.pos]! >= 0x30 && buf[this.pos]! <= 0x37; k++)
                v = v * 8 + (buf[this.pos++]! - 0x30);
              out.push(v & 0xff);
            } else out.push(c);
        }
        continue;
      }
      if (c === 0x28) depth++;
      else if (c === 0x29 && --depth === 0) return new PdfString(Buffer.from(out));
      // §7.3.4.2: an unescaped end-of-line in a literal string reads as a line feed.
      if (c === 0x0d) {
        if (buf[this.pos] === 0x0a) this.pos++;
        out.push(0x0a);
        continue;
      }
      out.push(c);
    }
    return this.fail('unterminated string');
  }

  private readHex(): PdfString {
    const close = this.buf.indexOf(0x3e, this.pos + 1);
    if (close < 0 || close >= this.end) this.fail('unterminated hex string');
    let hex = this.buf.toString('latin1', this.pos + 1, close).replace(/[\s\0]+/g, '');
    this.pos = close + 1;
    if (!/^[0-9a-fA-F]*$/.test(hex)) this.fail('bad hex string');
    if (hex.length % 2) hex += '0';
    return new PdfString(Buffer.from(hex, 'hex'), true);
  }

  private readArray(depth: number, content: boolean): PdfValue[] {
    this.pos++;
    const out: PdfValue[] = [];
    for (;;) {
      this.skipWs();
      if (this.pos >= this.end) this.fail('unterminated array');
      if (this.buf[this.pos] === 0x5d) {
        this.pos++;
        return out;
      }
      const v = this.readValue(depth + 1, content);
      if (v instanceof PdfOp) {
        // A stray keyword inside an array in a content stream: keep going, as viewers do.
        continue;
      }
      out.push(v);
      if (out.length > 1_000_000) pdfError('pdf_too_large', 'an array has too many elements');
    }
  }

  /**
   * Where each top-level value of the dictionary at `pos` lies in the buffer, [start, end):
   * a signature's byte range must exclude exactly its own /Contents (ISO 32000-1 §12.8.1).
   */
  readDictSpans(): Map<string, [number, number]> {
    const spans = new Map<string, [number, number]>();
    this.skipWs();
    if (this.buf[this.pos] !== 0x3c || this.buf[this.pos + 1] !== 0x3c) this.fail('expected a dictionary');
    this.pos += 2;
    for (;;) {
      this.skipWs();
      if (this.pos >= this.end) this.fail('unterminated dictionary');
      if (this.buf[this.pos] === 0x3e && this.buf[this.pos + 1] === 0x3e) return spans;
      if (this.buf[this.pos] !== 0x2f) this.fail('dictionary key is not a name');
      this.pos++;
      const key = this.readName();
      this.skipWs();
      const start = this.pos;
      if (this.buf[this.pos] === 0x3c && this.buf[this.pos + 1] !== 0x3c) {
        // A hex string (a signature's /Contents, tens of KB): its extent is all that is asked.
        const close = this.buf.indexOf(0x3e, this.pos + 1);
        if (close < 0 || close >= this.end) this.fail('unterminated hex string');
        this.pos = close + 1;
      } else if (this.readValue(1) instanceof PdfOp) this.fail('dictionary value is a keyword');
      if (!spans.has(key)) spans.set(key, [start, this.pos]);
      if (spans.size > 100_000) pdfError('pdf_too_large', 'a dictionary has too many entries');
    }
  }

  private readDict(depth: number, content: boolean): PdfDict {
    this.pos += 2;
    const dict = new PdfDict();
    for (;;) {
      this.skipWs();
      if (this.pos >= this.end) this.fail('unterminated dictionary');
      const c = this.buf[this.pos];
      if (c === 0x3e && this.buf[this.pos + 1] === 0x3e) {
        this.pos += 2;
        return dict;
      }
      if (c !== 0x2f) this.fail('dictionary key is not a name');
      this.pos++;
      const key = this.readName();
      this.skipWs();
      if (this.buf[this.pos] === 0x3e && this.buf[this.pos + 1] === 0x3e) {
        dict.set(key, null);
        continue;
      }
      const v = this.readValue(depth + 1, content);
      if (v instanceof PdfOp) this.fail('dictionary value is a keyword');
      dict.set(key, v);
      if (dict.map.size > 100_000) pdfError('pdf_too_large', 'a dictionary has too many entries');
    }
  }
}

export type XrefEntry =
  | { kind: 'free' }
  | { kind: 'offset'; offset: number; gen: number }
  | { kind: 'compressed'; stream: number; index: number };

export interface XrefSection {
  /** Where this section starts (the startxref value that points at it). */
  offset: number;
  /** Where its table and trailer, or its stream object, end (before `startxref`). */
  end: number;
  isStream: boolean;
  entries: Map<number, XrefEntry>;
  trailer: PdfDict;
}

export interface PageInfo {
  index: number;
  ref: PdfRef;
  dict: PdfDict;
}

interface ObjStm {
  /** [object number, offset in data] in header order. */
  entries: Array<[number, number]>;
  byNumber: Map<number, number>;
  data: Buffer;
}

/** Object lookup through a set of cross-reference sections (the whole file, or as of a revision). */
export class XrefView {
  private readonly cache = new Map<number, PdfValue>();
  private readonly objStms = new Map<number, ObjStm>();
  private readonly resolving = new Set<number>();
  readonly entries = new Map<number, XrefEntry>();

  constructor(
    readonly doc: PdfDocument,
    readonly sections: XrefSection[],
  ) {
    // Oldest first, so newer sections overwrite.
    for (let i = sections.length - 1; i >= 0; i--)
      for (const [num, entry] of sections[i]!.entries) this.entries.set(num, entry);
  }

  get trailer(): PdfDict {
    return this.sections[0]!.trailer;
  }

  entry(num: number): XrefEntry | undefined {
    return this.entries.get(num);
  }

  /** The object with this number (generation ignored, as readers do), or null when free or absent. */
  getObject(num: number): PdfValue {
    if (this.cache.has(num)) return this.cache.get(num)!;
    const entry = this.entries.get(num);
    if (!entry || entry.kind === 'free') return null;
    if (this.resolving.has(num)) pdfError('pdf_malformed', `object ${num} refers to itself while being read`);
    if (this.resolving.size > 32) pdfError('pdf_too_large', 'object references nest too deeply');
    this.resolving.add(num);
    try {
      let value: PdfValue;
      if (entry.kind === 'offset') value = this.doc.objectAt(entry.offset, num, this);
      else value = this.fromObjectStream(entry.stream, entry.index, num);
      this.cache.set(num, value);
      return value;
    } finally {
      this.resolving.delete(num);
    }
  }

  private fromObjectStream(streamNum: number, index: number, num: number): PdfValue {
    let stm = this.objStms.get(streamNum);
    if (!stm) {
      const stream = this.getObject(streamNum);
      if (!(stream instanceof PdfStream) || !isName(stream.dict.get('Type'), 'ObjStm'))
        pdfError('pdf_malformed', `object stream ${streamNum} is missing`);
      const n = this.resolve(stream.dict.get('N'));
      const first = this.resolve(stream.dict.get('First'));
      if (!isNumber(n) || !isNumber(first) || n < 0 || n > 1_000_000 || first < 0)
        pdfError('pdf_malformed', `object stream ${streamNum} has a bad header`);
      const data = this.doc.decode(stream, this);
      const lexer = new Lexer(data, 0, Math.min(first, data.length), this.doc.limits.maxDepth);
      const entries: Array<[number, number]> = [];
      const byNumber = new Map<number, number>();
      for (let i = 0; i < n; i++) {
        const objNum = lexer.readInt();
        const off = lexer.readInt();
        if (objNum === null || off === null) break;
        entries.push([objNum, first + off]);
        if (!byNumber.has(objNum)) byNumber.set(objNum, first + off);
      }
      stm = { entries, byNumber, data };
      this.objStms.set(streamNum, stm);
    }
    // The xref entry's index finds the object; some writers get it wrong, so the number decides.
    const atIndex = stm.entries[index];
    const offset = atIndex && atIndex[0] === num ? atIndex[1] : stm.byNumber.get(num);
    if (offset === undefined || offset >= stm.data.length) return null;
    const lexer = new Lexer(stm.data, offset, stm.data.length, this.doc.limits.maxDepth);
    const value = lexer.readValue(0);
    if (value instanceof PdfOp) pdfError('pdf_malformed', `object ${num} in object stream ${streamNum} is a keyword`);
    return value;
  }

  resolve(v: PdfValue | undefined): PdfValue | undefined {
    let hops = 0;
    while (v instanceof PdfRef) {
      if (++hops > 32) pdfError('pdf_malformed', 'a chain of references does not end');
      v = this.getObject(v.num);
    }
    return v;
  }

  dict(v: PdfValue | undefined): PdfDict | null {
    const r = this.resolve(v);
    if (r instanceof PdfDict) return r;
    if (r instanceof PdfStream) return r.dict;
    return null;
  }
}

/** A parsed PDF file: its bytes, cross-reference sections (newest first), and object access. */
export class PdfDocument {
  readonly sections: XrefSection[] = [];
  readonly budget: DecodeBudget;
  readonly current: XrefView;
  private pageList: PageInfo[] | null = null;
  private definedIn: Map<number, XrefSection> | null = null;
  private readonly parsedAt = new Map<number, { num: number; value: PdfValue; end: number }>();

  private constructor(
    readonly buf: Buffer,
    readonly limits: PdfLimits,
  ) {
    this.budget = { maxStreamBytes: limits.maxStreamBytes, remaining: limits.maxDecodedBytes };
    this.readXrefChain();
    this.current = new XrefView(this, this.sections);
    if (this.current.trailer.has('Encrypt'))
      pdfError('pdf_encrypted', 'the PDF is encrypted; remove the encryption before signing or verifying it');
    if (!isRef(this.current.trailer.get('Root'))) pdfError('pdf_malformed', 'the trailer has no /Root');
  }

  static load(buf: Buffer, limits: Partial<PdfLimits> = {}): PdfDocument {
    const all = { ...DEFAULT_LIMITS, ...limits };
    if (buf.length > all.maxFileBytes) pdfError('pdf_too_large', `the file is larger than ${all.maxFileBytes} bytes`);
    const head = buf.subarray(0, 1024).indexOf('%PDF-');
    if (head < 0) pdfError('pdf_malformed', 'this is not a PDF (no %PDF- header)');
    return new PdfDocument(buf, all);
  }

  get trailer(): PdfDict {
    return this.current.trailer;
  }

  /** One past the highest object number in use, across every revision (the next free number). */
  get size(): number {
    let size = 0;
    for (const s of this.sections) {
      const n = s.trailer.get('Size');
      if (isNumber(n)) size = Math.max(size, n);
      for (const num of s.entries.keys()) size = Math.max(size, num + 1);
    }
    return size;
  }

  /** The startxref offset of the newest section. */
  get lastXrefOffset(): number {
    return this.sections[0]!.offset;
  }

  /** Object lookup as the file stood before byte `position` (sections written before it). */
  viewBefore(position: number): XrefView | null {
    const sections = this.sections.filter((s) => s.offset < position);
    return sections.length ? new XrefView(this, sections) : null;
  }

  resolve(v: PdfValue | undefined): PdfValue | undefined {
    return this.current.resolve(v);
  }

  dict(v: PdfValue | undefined): PdfDict | null {
    return this.current.dict(v);
  }

  getObject(num: number): PdfValue {
    return this.current.getObject(num);
  }

  decode(stream: PdfStream, view: XrefView = this.current): Buffer {
    return decodeStream(stream.dict, stream.data, this.budget, (v) => view.resolve(v));
  }

  catalog(): PdfDict {
    const root = this.dict(this.trailer.get('Root'));
    if (!root) pdfError('pdf_malformed', 'the document catalog is missing');
    return root;
  }

  get rootRef(): PdfRef {
    return this.trailer.get('Root') as PdfRef;
  }

  // ------------------------------------------------------------ cross-reference chain

  private startXref(): number {
    // ISO 32000-1 Annex H.3 (implementation note): %%EOF within the last 1024 bytes. Looking
    // further would read a truncated file as its earlier revision.
    const tail = this.buf.subarray(Math.max(0, this.buf.length - 1024));
    const at = tail.lastIndexOf('startxref');
    if (at < 0) pdfError('pdf_malformed', 'no startxref at the end of the file (is it truncated?)');
    const lexer = new Lexer(tail, at + 9, tail.length, 4);
    const offset = lexer.readInt();
    if (offset === null || offset >= this.buf.length)
      pdfError('pdf_malformed', 'the startxref offset points outside the file');
    return offset;
  }

  private readXrefChain(): void {
    const seen = new Set<number>();
    let offset: number | null = this.startXref();
    while (offset !== null) {
      if (seen.has(offset)) pdfError('pdf_malformed', 'the cross-reference chain loops');
      if (seen.size >= this.limits.maxXrefSections) pdfError('pdf_too_large', 'too many cross-reference sections');
      seen.add(offset);
      const section = this.readSection(offset);
      this.sections.push(section);
      const prev = section.trailer.get('Prev');
      offset = isNumber(prev) && prev >= 0 && prev < this.buf.length ? prev : null;
    }
  }

  private readSection(offset: number): XrefSection {
    const lexer = new Lexer(this.buf, offset, this.buf.length, this.limits.maxDepth);
    lexer.skipWs();
    if (this.buf.toString('latin1', lexer.pos, lexer.pos + 4) === 'xref') {
      lexer.pos += 4;
      return this.readTable(lexer, offset);
    }
    return this.readXrefStream(offset);
  }

  private checkNum(num: number): void {
    if (num >= this.limits.maxObjects) pdfError('pdf_too_large', `object number ${num} exceeds the limit`);
  }

  private readTable(lexer: Lexer, offset: number): XrefSection {
    const entries = new Map<number, XrefEntry>();
    for (;;) {
      lexer.skipWs();
      if (this.buf.toString('latin1', lexer.pos, lexer.pos + 7) === 'trailer') {
        lexer.pos += 7;
        break;
      }
      const start = lexer.readInt();
      const count = lexer.readInt();
      if (start === null || count === null) pdfError('pdf_malformed', `bad cross-reference table at byte ${offset}`);
      this.checkNum(start + count);
      for (let i = 0; i < count; i++) {
        const off = lexer.readInt();
        const gen = lexer.readInt();
        const type = lexer.readKeyword();
        if (off === null || gen === null || (type !== 'n' && type !== 'f'))
          pdfError('pdf_malformed', `bad cross-reference entry at byte ${lexer.pos}`);
        const num = start + i;
        // The first section read (the newest) wins; within a table the first mention wins.
        if (entries.has(num)) continue;
        if (type === 'f') entries.set(num, { kind: 'free' });
        else if (off > 0 && off < this.buf.length) entries.set(num, { kind: 'offset', offset: off, gen });
        else entries.set(num, { kind: 'free' });
      }
    }
    const trailer = lexer.readValue(0);
    if (!(trailer instanceof PdfDict)) pdfError('pdf_malformed', 'the trailer is not a dictionary');
    const end = lexer.pos;
    // Hybrid-reference files (§7.5.8.4): entries in /XRefStm come after the table's own.
    const xrefStm = trailer.get('XRefStm');
    if (isNumber(xrefStm) && xrefStm > 0 && xrefStm < this.buf.length) {
      try {
        const hidden = this.readXrefStream(xrefStm);
        for (const [num, entry] of hidden.entries) if (!entries.has(num)) entries.set(num, entry);
      } catch {
        // A broken hidden stream leaves the table, which older readers use alone.
      }
    }
    return { offset, end, isStream: false, entries, trailer };
  }

  private readXrefStream(offset: number): XrefSection {
    const bootstrap = new XrefView(this, []);
    const { value, end } = this.parseIndirectAt(offset, null, bootstrap);
    if (!(value instanceof PdfStream) || !isName(value.dict.get('Type'), 'XRef'))
      pdfError('pdf_malformed', `no cross-reference table or stream at byte ${offset}`);
    const dict = value.dict;
    const w = dict.get('W');
    const size = dict.get('Size');
    if (!Array.isArray(w) || w.length !== 3 || !w.every((x) => isNumber(x) && x >= 0 && x <= 8) || !isNumber(size))
      pdfError('pdf_malformed', 'bad cross-reference stream header');
    this.checkNum(size);
    const [w0, w1, w2] = w as [number, number, number];
    const index = dict.get('Index');
    const ranges: number[] = Array.isArray(index) ? index.filter(isNumber) : [0, size];
    const data = this.decode(value, bootstrap);
    const rowLength = w0 + w1 + w2;
    if (rowLength === 0) pdfError('pdf_malformed', 'cross-reference stream has zero-width rows');
    const field = (pos: number, width: number) => {
      let v = 0;
      for (let i = 0; i < width; i++) v = v * 256 + data[pos + i]!;
      return v;
    };
    const entries = new Map<number, XrefEntry>();
    let pos = 0;
    for (let r = 0; r + 1 < ranges.length; r += 2) {
      const start = ranges[r]!;
      const count = ranges[r + 1]!;
      this.checkNum(start + count);
      for (let i = 0; i < count && pos + rowLength <= data.length; i++, pos += rowLength) {
        const type = w0 === 0 ? 1 : field(pos, w0);
        const a = field(pos + w0, w1);
        const b = field(pos + w0 + w1, w2);
        const num = start + i;
        if (entries.has(num)) continue;
        if (type === 1)
          entries.set(num, a > 0 && a < this.buf.length ? { kind: 'offset', offset: a, gen: b } : { kind: 'free' });
        else if (type === 2) entries.set(num, { kind: 'compressed', stream: a, index: b });
        else entries.set(num, { kind: 'free' });
      }
    }
    return { offset, end: this.afterEndobj(end), isStream: true, entries, trailer: dict };
  }

  // ------------------------------------------------------------ objects

  /** Parses `num gen obj … endobj` at `offset`; `end` is where the object's bytes stop. */
  parseIndirectAt(
    offset: number,
    expected: number | null,
    view: XrefView,
  ): { num: number; gen: number; value: PdfValue; end: number } {
    const lexer = new Lexer(this.buf, offset, this.buf.length, this.limits.maxDepth);
    const num = lexer.readInt();
    const gen = lexer.readInt();
    const kw = lexer.readKeyword();
    if (num === null || gen === null || kw !== 'obj')
      pdfError(
        'pdf_malformed',
        `no object at byte ${offset}${expected !== null ? ` (expected object ${expected})` : ''}`,
      );
    if (expected !== null && num !== expected)
      pdfError('pdf_malformed', `object ${expected} is expected at byte ${offset}, found ${num}`);
    const value = lexer.readValue(0);
    if (value instanceof PdfOp) pdfError('pdf_malformed', `object ${num} is a bare keyword`);
    if (value instanceof PdfDict) {
      const save = lexer.pos;
      lexer.skipWs();
      if (this.buf.toString('latin1', lexer.pos, lexer.pos + 6) === 'stream') {
        let start = lexer.pos + 6;
        if (this.buf[start] === 0x0d) start++;
        if (this.buf[start] === 0x0a) start++;
        const stream = this.readStreamData(value, start, view, num);
        return { num, gen, value: stream.stream, end: stream.end };
      }
      lexer.pos = save;
    }
    return { num, gen, value, end: lexer.pos };
  }

  /**
   * Object `num` stored at `offset`, parsed once for every view that lists it there: the same
   * bytes are the same value. A stream whose /Length is indirect is not shared, since another
   * view may resolve that length differently.
   */
  objectAt(offset: number, num: number, view: XrefView): PdfValue {
    const cached = this.parsedAt.get(offset);
    if (cached && cached.num === num) return cached.value;
    const { value, end } = this.parseIndirectAt(offset, num, view);
    if (!(value instanceof PdfStream && isRef(value.dict.get('Length'))))
      this.parsedAt.set(offset, { num, value, end });
    return value;
  }

  /** The position after the `endobj` that follows `pos` (or `pos` when there is none). */
  private afterEndobj(pos: number): number {
    const lexer = new Lexer(this.buf, pos, this.buf.length, 1);
    lexer.skipWs();
    return this.buf.toString('latin1', lexer.pos, lexer.pos + 6) === 'endobj' ? lexer.pos + 6 : pos;
  }

  /** The bytes of the indirect object at `offset`, from its `num gen obj` to its `endobj`. */
  objectSpan(offset: number): { num: number; start: number; end: number } {
    const { num, end } = this.parsedAt.get(offset) ?? this.parseIndirectAt(offset, null, this.current);
    return { num, start: offset, end: this.afterEndobj(end) };
  }

  /**
   * Where the values of the dictionary stored as object `num` lie in the file, or null when the
   * object is not a dictionary of its own at a file offset (in an object stream, or absent).
   */
  valueSpans(num: number): Map<string, [number, number]> | null {
    const entry = this.current.entry(num);
    if (entry?.kind !== 'offset') return null;
    const lexer = new Lexer(this.buf, entry.offset, this.buf.length, this.limits.maxDepth);
    if (lexer.readInt() !== num || lexer.readInt() === null || lexer.readKeyword() !== 'obj') return null;
    return lexer.readDictSpans();
  }

  /** The newest section (revision) that writes object `num`, or undefined when none does. */
  definingSection(num: number): XrefSection | undefined {
    if (!this.definedIn) {
      this.definedIn = new Map();
      for (const section of this.sections)
        for (const n of section.entries.keys()) if (!this.definedIn.has(n)) this.definedIn.set(n, section);
    }
    return this.definedIn.get(num);
  }

  private readStreamData(
    dict: PdfDict,
    start: number,
    view: XrefView,
    num: number,
  ): { stream: PdfStream; end: number } {
    let length: PdfValue | undefined = dict.get('Length');
    if (isRef(length)) {
      try {
        length = length.num === num ? undefined : view.resolve(length);
      } catch {
        length = undefined;
      }
    }
    if (isNumber(length) && length >= 0 && start + length <= this.buf.length) {
      let p = start + length;
      while (p < this.buf.length && WS[this.buf[p]!]) p++;
      if (this.buf.toString('latin1', p, p + 9) === 'endstream')
        return { stream: new PdfStream(dict, this.buf.subarray(start, start + length)), end: p + 9 };
    }
    // A wrong /Length: find endstream and trim the end-of-line before it.
    const at = this.buf.indexOf('endstream', start, 'latin1');
    if (at < 0) pdfError('pdf_malformed', `stream of object ${num} has no end`);
    let stop = at;
    if (this.buf[stop - 1] === 0x0a) stop--;
    if (this.buf[stop - 1] === 0x0d) stop--;
    return { stream: new PdfStream(dict, this.buf.subarray(start, Math.max(start, stop))), end: at + 9 };
  }

  // ------------------------------------------------------------ pages

  /** Every page in order (ISO 32000-1 §7.7.3), guarding against cycles and runaway trees. */
  pages(): PageInfo[] {
    this.pageList ??= this.pagesOf(this.current);
    return this.pageList;
  }

  /** The pages as a view (the file as of a revision) sees them. */
  pagesOf(view: XrefView): PageInfo[] {
    const root = view.dict(view.trailer.get('Root'))?.get('Pages');
    if (!isRef(root)) pdfError('pdf_malformed', 'the catalog has no page tree');
    const out: PageInfo[] = [];
    const seen = new Set<number>();
    const stack: Array<{ ref: PdfRef; depth: number }> = [{ ref: root, depth: 0 }];
    while (stack.length > 0) {
      const { ref, depth } = stack.pop()!;
      if (seen.has(ref.num)) pdfError('pdf_malformed', 'the page tree contains a cycle');
      seen.add(ref.num);
      if (depth > 64) pdfError('pdf_too_large', 'the page tree is too deep');
      const node = view.dict(ref);
      if (!node) continue;
      const kids = view.resolve(node.get('Kids'));
      if (Array.isArray(kids) && !isName(node.get('Type'), 'Page')) {
        for (let i = kids.length - 1; i >= 0; i--) {
          const kid = kids[i];
          if (isRef(kid)) stack.push({ ref: kid, depth: depth + 1 });
        }
      } else {
        out.push({ index: out.length, ref, dict: node });
        if (out.length > this.limits.maxPages) pdfError('pdf_too_large', 'too many pages');
      }
    }
    return out;
  }

  page(number: number): PageInfo {
    const pages = this.pages();
    const page = pages[number - 1];
    if (!Number.isInteger(number) || !page)
      pdfError(
        'pdf_page_not_found',
        `page ${number} does not exist; the document has ${pages.length} page${pages.length === 1 ? '' : 's'}`,
        { page: number },
      );
    return page;
  }

  /** An inheritable page attribute (§7.7.3.4): Resources, MediaBox, CropBox, Rotate. */
  inherited(page: PdfDict, key: string): PdfValue | undefined {
    let node: PdfDict | null = page;
    for (let i = 0; node && i < 64; i++) {
      const v = node.get(key);
      if (v !== undefined) return this.resolve(v);
      node = this.dict(node.get('Parent'));
    }
    return undefined;
  }

  /** The visible page box [x0 y0 x1 y1]: CropBox within MediaBox, normalised. */
  pageBox(page: PdfDict): [number, number, number, number] {
    const box = (key: string) => {
      const v = this.inherited(page, key);
      if (!Array.isArray(v) || v.length !== 4) return null;
      const n = v.map((x) => this.resolve(x));
      if (!n.every(isNumber)) return null;
      const [a, b, c, d] = n as number[];
      return [Math.min(a!, c!), Math.min(b!, d!), Math.max(a!, c!), Math.max(b!, d!)] as [
        number,
        number,
        number,
        number,
      ];
    };
    const media = box('MediaBox') ?? [0, 0, 612, 792];
    const crop = box('CropBox');
    if (!crop) return media;
    return [
      Math.max(media[0], crop[0]),
      Math.max(media[1], crop[1]),
      Math.min(media[2], crop[2]),
      Math.min(media[3], crop[3]),
    ];
  }
}

export const stringOf = (v: PdfValue | undefined): string | null => (v instanceof PdfString ? v.text() : null);
export { isDict };
