// The PDF object model (ISO 32000-1 §7.3) and its serialisation. Names and strings hold bytes:
// names as latin1 strings (one char per byte), strings as Buffers, so nothing is re-encoded.

export class PdfName {
  private static readonly interned = new Map<string, PdfName>();
  private constructor(readonly value: string) {}
  static of(value: string): PdfName {
    let name = PdfName.interned.get(value);
    if (!name) {
      name = new PdfName(value);
      if (PdfName.interned.size < 10_000) PdfName.interned.set(value, name);
    }
    return name;
  }
}

export class PdfRef {
  constructor(
    readonly num: number,
    readonly gen: number,
  ) {}
  equals(other: PdfRef): boolean {
    return this.num === other.num && this.gen === other.gen;
  }
}

export class PdfString {
  constructor(
    readonly bytes: Buffer,
    readonly hex = false,
  ) {}
  /** PDF text string (§7.9.2.2): UTF-16BE with a BOM, UTF-8 with a BOM (PDF 2.0), else PDFDocEncoding (treated as latin1). */
  text(): string {
    const b = this.bytes;
    if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return Buffer.from(b.subarray(2)).swap16().toString('utf16le');
    if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return b.subarray(3).toString('utf8');
    return b.toString('latin1');
  }
  /** A text string: PDFDocEncoding-safe ASCII as is, anything else UTF-16BE with a BOM. */
  static text(value: string): PdfString {
    if (/^[\x20-\x7e]*$/.test(value)) return new PdfString(Buffer.from(value, 'latin1'));
    const utf16 = Buffer.from(value, 'utf16le');
    if (utf16.length % 2 === 0) utf16.swap16();
    return new PdfString(Buffer.concat([Buffer.from([0xfe, 0xff]), utf16]), true);
  }
}

export class PdfDict {
  constructor(readonly map: Map<string, PdfValue> = new Map()) {}
  get(key: string): PdfValue | undefined {
    return this.map.get(key);
  }
  set(key: string, value: PdfValue): this {
    this.map.set(key, value);
    return this;
  }
  has(key: string): boolean {
    return this.map.has(key);
  }
  delete(key: string): void {
    this.map.delete(key);
  }
  clone(): PdfDict {
    return new PdfDict(new Map(this.map));
  }
  static of(entries: Record<string, PdfValue>): PdfDict {
    return new PdfDict(new Map(Object.entries(entries)));
  }
}

export class PdfStream {
  constructor(
    readonly dict: PdfDict,
    /** The stream's bytes as stored (still encoded by its /Filter). */
    readonly data: Buffer,
  ) {}
}

export type PdfValue = null | boolean | number | PdfName | PdfString | PdfRef | PdfValue[] | PdfDict | PdfStream;

export const name = (value: string): PdfName => PdfName.of(value);

export const isDict = (v: PdfValue | undefined): v is PdfDict => v instanceof PdfDict;
export const isName = (v: PdfValue | undefined, value?: string): v is PdfName =>
  v instanceof PdfName && (value === undefined || v.value === value);
export const isRef = (v: PdfValue | undefined): v is PdfRef => v instanceof PdfRef;
export const isNumber = (v: PdfValue | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

// ---------------------------------------------------------------- serialisation

const REGULAR_NAME = /^[!"$&'*+,\-.0-9:;=?@A-Z\\^_`a-z|~\x22\x27]*$/;

function nameText(value: string): string {
  if (REGULAR_NAME.test(value)) return `/${value}`;
  let out = '/';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const ch = value[i]!;
    if (c < 0x21 || c > 0x7e || '#()<>[]{}/%'.includes(ch)) out += `#${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out;
}

function stringText(s: PdfString): string {
  if (s.hex) return `<${s.bytes.toString('hex')}>`;
  let out = '(';
  for (const b of s.bytes) {
    if (b === 0x28 || b === 0x29 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b === 0x0d) out += '\\r';
    else if (b === 0x0a) out += '\\n';
    else out += String.fromCharCode(b);
  }
  return `${out})`;
}

export function numberText(n: number): string {
  if (Number.isInteger(n)) return String(n);
  const fixed = n.toFixed(5).replace(/0+$/, '').replace(/\.$/, '');
  return fixed === '-0' ? '0' : fixed;
}

/** Serialises a value as latin1 text (every char one byte). Streams are written by `objectBytes`. */
export function valueText(v: PdfValue, depth = 0): string {
  if (depth > 100) throw new Error('value nested too deeply to write');
  if (v === null) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'number') return numberText(v);
  if (v instanceof PdfName) return nameText(v.value);
  if (v instanceof PdfRef) return `${v.num} ${v.gen} R`;
  if (v instanceof PdfString) return stringText(v);
  if (Array.isArray(v)) return `[${v.map((x) => valueText(x, depth + 1)).join(' ')}]`;
  if (v instanceof PdfDict) {
    let out = '<<';
    for (const [k, x] of v.map) out += `${nameText(k)} ${valueText(x, depth + 1)}`;
    return `${out}>>`;
  }
  throw new Error('a stream cannot be written inside another object');
}

/** `N G obj … endobj` bytes for one indirect object. */
export function objectBytes(ref: PdfRef, value: PdfValue): Buffer {
  const head = `${ref.num} ${ref.gen} obj\n`;
  if (value instanceof PdfStream) {
    const dict = value.dict.clone().set('Length', value.data.length);
    return Buffer.concat([
      Buffer.from(`${head}${valueText(dict)}\nstream\n`, 'latin1'),
      value.data,
      Buffer.from('\nendstream\nendobj\n', 'latin1'),
    ]);
  }
  return Buffer.from(`${head}${valueText(value)}\nendobj\n`, 'latin1');
}

/** A PDF date (§7.9.4) in UTC. */
export function pdfDate(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `D:${date.getUTCFullYear()}${p(date.getUTCMonth() + 1)}${p(date.getUTCDate())}${p(date.getUTCHours())}${p(date.getUTCMinutes())}${p(date.getUTCSeconds())}+00'00'`;
}

export function parsePdfDate(text: string): Date | null {
  const m = /^D:(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?([Zz+-])?(\d{2})?'?(\d{2})?'?/.exec(text);
  if (!m) return null;
  const utc = Date.UTC(
    Number(m[1]),
    Number(m[2] ?? 1) - 1,
    Number(m[3] ?? 1),
    Number(m[4] ?? 0),
    Number(m[5] ?? 0),
    Number(m[6] ?? 0),
  );
  const sign = m[7] === '+' ? 1 : m[7] === '-' ? -1 : 0;
  const offset = sign * (Number(m[8] ?? 0) * 60 + Number(m[9] ?? 0)) * 60_000;
  const date = new Date(utc - offset);
  return Number.isNaN(date.getTime()) ? null : date;
}
