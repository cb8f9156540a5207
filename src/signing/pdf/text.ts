// Finding a keyword in a page's text, with its position, to place a seal on it (e.g. 甲方（盖章）).
// It interprets the text operators of the content stream (ISO 32000-1 §9.4) and maps codes to
// Unicode through the font's ToUnicode CMap (§9.10.3), or its simple encoding when there is none.
import { PdfDict, PdfName, PdfStream, PdfString, isNumber, isName, type PdfValue } from './objects.js';
import { Lexer, PdfOp, type PdfDocument } from './parser.js';

type Matrix = [number, number, number, number, number, number];
const IDENTITY: Matrix = [1, 0, 0, 1, 0, 0];

function multiply(m: Matrix, n: Matrix): Matrix {
  return [
    m[0] * n[0] + m[1] * n[2],
    m[0] * n[1] + m[1] * n[3],
    m[2] * n[0] + m[3] * n[2],
    m[2] * n[1] + m[3] * n[3],
    m[4] * n[0] + m[5] * n[2] + n[4],
    m[4] * n[1] + m[5] * n[3] + n[5],
  ];
}
const apply = (m: Matrix, x: number, y: number): [number, number] => [
  m[0] * x + m[2] * y + m[4],
  m[1] * x + m[3] * y + m[5],
];

interface CodeRange {
  bytes: number;
  low: number;
  high: number;
}

interface FontDecoder {
  /** Splits a string into codes with their text and advance width (in 1/1000 text-space units). */
  decode(bytes: Buffer): Array<{ text: string; width: number; isSpace: boolean }>;
}

function hexNumber(s: PdfString): number {
  let n = 0;
  for (const b of s.bytes) n = n * 256 + b;
  return n;
}

const utf16 = (bytes: Buffer): string =>
  bytes.length % 2 === 0 ? Buffer.from(bytes).swap16().toString('utf16le') : bytes.toString('latin1');

/** Parses a ToUnicode (or encoding) CMap: codespace ranges and code → text mappings. */
function parseCMap(data: Buffer): { ranges: CodeRange[]; map: Map<string, string> } {
  const lexer = new Lexer(data, 0, data.length, 8);
  const ranges: CodeRange[] = [];
  const map = new Map<string, string>();
  const key = (bytes: number, code: number) => `${bytes}:${code}`;
  const tokens: Array<PdfValue | PdfOp> = [];
  let guard = 0;
  while (guard++ < 2_000_000) {
    lexer.skipWs();
    if (lexer.pos >= data.length) break;
    let token: PdfValue | PdfOp;
    try {
      token = lexer.readValue(0, true);
    } catch {
      lexer.pos++;
      continue;
    }
    if (!(token instanceof PdfOp)) {
      tokens.push(token);
      if (tokens.length > 100_000) tokens.length = 0;
      continue;
    }
    const op = token.value;
    if (op === 'endcodespacerange') {
      for (let i = 0; i + 1 < tokens.length; i += 2) {
        const lo = tokens[i];
        const hi = tokens[i + 1];
        if (lo instanceof PdfString && hi instanceof PdfString)
          ranges.push({ bytes: lo.bytes.length, low: hexNumber(lo), high: hexNumber(hi) });
      }
    } else if (op === 'endbfchar') {
      for (let i = 0; i + 1 < tokens.length; i += 2) {
        const src = tokens[i];
        const dst = tokens[i + 1];
        if (src instanceof PdfString && dst instanceof PdfString)
          map.set(key(src.bytes.length, hexNumber(src)), utf16(dst.bytes));
      }
    } else if (op === 'endbfrange') {
      for (let i = 0; i + 2 < tokens.length; i += 3) {
        const lo = tokens[i];
        const hi = tokens[i + 1];
        const dst = tokens[i + 2];
        if (!(lo instanceof PdfString) || !(hi instanceof PdfString)) continue;
        const a = hexNumber(lo);
        const b = Math.min(hexNumber(hi), a + 65_535);
        for (let c = a; c <= b; c++) {
          if (dst instanceof PdfString) {
            // The last byte of the destination increments through the range (§9.10.3).
            const bytes = Buffer.from(dst.bytes);
            if (bytes.length) bytes[bytes.length - 1] = (bytes[bytes.length - 1]! + (c - a)) & 0xff;
            map.set(key(lo.bytes.length, c), utf16(bytes));
          } else if (Array.isArray(dst)) {
            const item = dst[c - a];
            if (item instanceof PdfString) map.set(key(lo.bytes.length, c), utf16(item.bytes));
          }
        }
      }
    }
    tokens.length = 0;
  }
  return { ranges, map };
}

function unicodeCMapDecoder(doc: PdfDocument, font: PdfDict): FontDecoder {
  const descendants = doc.resolve(font.get('DescendantFonts'));
  const cid = Array.isArray(descendants) ? doc.dict(descendants[0]) : null;
  const dw = cid ? doc.resolve(cid.get('DW')) : undefined;
  // Code → CID needs the CMap file itself; full-width CJK glyphs are 1000 units, so DW serves.
  const width = isNumber(dw) ? dw : 1000;
  return {
    decode(bytes) {
      const out: Array<{ text: string; width: number; isSpace: boolean }> = [];
      for (let i = 0; i + 1 < bytes.length;) {
        const unit = bytes.readUInt16BE(i);
        const pair = unit >= 0xd800 && unit <= 0xdbff && i + 3 < bytes.length;
        const text = Buffer.from(bytes.subarray(i, i + (pair ? 4 : 2)))
          .swap16()
          .toString('utf16le');
        i += pair ? 4 : 2;
        out.push({ text, width: text === ' ' ? width / 2 : width, isSpace: text === ' ' });
      }
      return out;
    },
  };
}

/** A few glyph names beyond the single letters, for simple fonts without ToUnicode. */
const GLYPHS: Record<string, string> = {
  space: ' ',
  period: '.',
  comma: ',',
  colon: ':',
  semicolon: ';',
  hyphen: '-',
  parenleft: '(',
  parenright: ')',
  slash: '/',
  underscore: '_',
  zero: '0',
  one: '1',
  two: '2',
  three: '3',
  four: '4',
  five: '5',
  six: '6',
  seven: '7',
  eight: '8',
  nine: '9',
};

function glyphText(glyph: string): string | null {
  if (glyph.length === 1) return glyph;
  if (GLYPHS[glyph]) return GLYPHS[glyph]!;
  const uni = /^uni([0-9A-Fa-f]{4})$/.exec(glyph);
  return uni ? String.fromCharCode(parseInt(uni[1]!, 16)) : null;
}

function fontDecoder(doc: PdfDocument, font: PdfDict): FontDecoder {
  const subtype = doc.resolve(font.get('Subtype'));
  const isType0 = isName(subtype, 'Type0');
  let toUnicode: ReturnType<typeof parseCMap> | null = null;
  const tu = doc.resolve(font.get('ToUnicode'));
  if (tu instanceof PdfStream) {
    try {
      toUnicode = parseCMap(doc.decode(tu));
    } catch {
      toUnicode = null;
    }
  }
  if (isType0) {
    const encoding = doc.resolve(font.get('Encoding'));
    // Predefined Unicode CMaps (Uni…-UCS2-H, Uni…-UTF16-H; ISO 32000-1 §9.7.5.2) encode text as
    // UTF-16BE, as iText's STSong-Light and mutool's CJK fonts write it; no ToUnicode is needed.
    if (!toUnicode && isName(encoding) && /^Uni\w+-(UCS2|UTF16)-[HV]$/.test(encoding.value))
      return unicodeCMapDecoder(doc, font);
    let ranges: CodeRange[] = [{ bytes: 2, low: 0, high: 0xffff }];
    if (encoding instanceof PdfStream) {
      try {
        const cmap = parseCMap(doc.decode(encoding));
        if (cmap.ranges.length) ranges = cmap.ranges;
      } catch {
        // keep two-byte codes
      }
    }
    const descendants = doc.resolve(font.get('DescendantFonts'));
    const cid = Array.isArray(descendants) ? doc.dict(descendants[0]) : null;
    const dw = cid ? doc.resolve(cid.get('DW')) : undefined;
    const defaultWidth = isNumber(dw) ? dw : 1000;
    const widths = new Map<number, number>();
    const w = cid ? doc.resolve(cid.get('W')) : undefined;
    if (Array.isArray(w)) {
      for (let i = 0; i < w.length && widths.size < 200_000;) {
        const first = doc.resolve(w[i]);
        const next = doc.resolve(w[i + 1]);
        if (!isNumber(first)) break;
        if (Array.isArray(next)) {
          next.forEach((x, k) => {
            const v = doc.resolve(x);
            if (isNumber(v)) widths.set(first + k, v);
          });
          i += 2;
        } else {
          const last = next;
          const width = doc.resolve(w[i + 2]);
          if (isNumber(last) && isNumber(width))
            for (let c = first; c <= Math.min(last, first + 65_535); c++) widths.set(c, width);
          i += 3;
        }
      }
    }
    return {
      decode(bytes) {
        const out: Array<{ text: string; width: number; isSpace: boolean }> = [];
        for (let i = 0; i < bytes.length;) {
          let len = 0;
          let code = 0;
          for (let n = 1; n <= 4 && i + n <= bytes.length; n++) {
            code = code * 256 + bytes[i + n - 1]!;
            if (ranges.some((r) => r.bytes === n && code >= r.low && code <= r.high)) {
              len = n;
              break;
            }
          }
          if (len === 0) {
            len = Math.min(2, bytes.length - i);
            code = len === 2 ? bytes.readUInt16BE(i) : bytes[i]!;
          }
          i += len;
          const text = toUnicode?.map.get(`${len}:${code}`) ?? '';
          // With Identity encodings the code is the CID, which indexes /W.
          out.push({ text, width: widths.get(code) ?? defaultWidth, isSpace: false });
        }
        return out;
      },
    };
  }
  const firstChar = doc.resolve(font.get('FirstChar'));
  const widthList = doc.resolve(font.get('Widths'));
  const differences = new Map<number, string>();
  const enc = doc.dict(font.get('Encoding'));
  const diffs = enc ? doc.resolve(enc.get('Differences')) : undefined;
  if (Array.isArray(diffs)) {
    let code = 0;
    for (const d of diffs.slice(0, 10_000)) {
      if (isNumber(d)) code = d;
      else if (d instanceof PdfName) differences.set(code++, d.value);
    }
  }
  return {
    decode(bytes) {
      const out: Array<{ text: string; width: number; isSpace: boolean }> = [];
      for (const b of bytes) {
        let text = toUnicode?.map.get(`1:${b}`);
        if (text === undefined) {
          const glyph = differences.get(b);
          text = glyph ? (glyphText(glyph) ?? '') : String.fromCharCode(b);
        }
        const wv = Array.isArray(widthList) && isNumber(firstChar) ? doc.resolve(widthList[b - firstChar]) : undefined;
        out.push({ text, width: isNumber(wv) ? wv : 500, isSpace: b === 0x20 });
      }
      return out;
    },
  };
}

interface Glyph {
  text: string;
  box: [number, number, number, number];
}

interface State {
  ctm: Matrix;
  font: FontDecoder | null;
  size: number;
  charSpace: number;
  wordSpace: number;
  scale: number;
  leading: number;
  rise: number;
}

/** The glyphs of one page, in content order, with boxes in default user space. */
export function pageGlyphs(doc: PdfDocument, page: PdfDict, budget = { ops: 2_000_000 }): Glyph[] {
  const glyphs: Glyph[] = [];
  const resources = doc.dict(doc.inherited(page, 'Resources'));
  const contents = doc.resolve(page.get('Contents'));
  const streams = (Array.isArray(contents) ? contents : [contents])
    .map((c) => doc.resolve(c))
    .filter((s): s is PdfStream => s instanceof PdfStream);
  const data = Buffer.concat(streams.flatMap((s) => [doc.decode(s), Buffer.from('\n')]));
  run(doc, data, resources, IDENTITY, glyphs, budget, 0);
  return glyphs;
}

/** The text a form XObject (an annotation's appearance) shows, in content order. */
export function formText(doc: PdfDocument, form: PdfStream, budget = { ops: 200_000 }): string {
  const glyphs: Glyph[] = [];
  run(doc, doc.decode(form), doc.dict(form.dict.get('Resources')), IDENTITY, glyphs, budget, 0);
  return glyphs.map((g) => g.text).join('');
}

function run(
  doc: PdfDocument,
  data: Buffer,
  resources: PdfDict | null,
  baseCtm: Matrix,
  glyphs: Glyph[],
  budget: { ops: number },
  depth: number,
): void {
  if (depth > 8) return;
  const fonts = new Map<string, FontDecoder>();
  const fontDict = resources ? doc.dict(resources.get('Font')) : null;
  const xobjects = resources ? doc.dict(resources.get('XObject')) : null;
  const getFont = (fontName: string) => {
    if (!fonts.has(fontName)) {
      const f = fontDict ? doc.dict(fontDict.get(fontName)) : null;
      fonts.set(
        fontName,
        f
          ? fontDecoder(doc, f)
          : { decode: (b) => [...b].map((x) => ({ text: String.fromCharCode(x), width: 500, isSpace: x === 0x20 })) },
      );
    }
    return fonts.get(fontName)!;
  };
  let state: State = { ctm: baseCtm, font: null, size: 0, charSpace: 0, wordSpace: 0, scale: 1, leading: 0, rise: 0 };
  const stack: State[] = [];
  let tm: Matrix = IDENTITY;
  let tlm: Matrix = IDENTITY;
  const operands: Array<PdfValue> = [];
  const lexer = new Lexer(data, 0, data.length, 16);
  const num = (i: number) => {
    const v = operands[operands.length - i];
    return isNumber(v) ? v : 0;
  };
  const show = (bytes: Buffer) => {
    if (!state.font) return;
    for (const g of state.font.decode(bytes)) {
      const trm = multiply(multiply([state.size * state.scale, 0, 0, state.size, 0, state.rise], tm), state.ctm);
      const advance = g.width / 1000;
      const corners = [apply(trm, 0, -0.2), apply(trm, advance, -0.2), apply(trm, 0, 0.8), apply(trm, advance, 0.8)];
      const xs = corners.map((c) => c[0]);
      const ys = corners.map((c) => c[1]);
      if (g.text)
        glyphs.push({ text: g.text, box: [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)] });
      const tx = (advance * state.size + state.charSpace + (g.isSpace ? state.wordSpace : 0)) * state.scale;
      tm = multiply([1, 0, 0, 1, tx, 0], tm);
    }
  };
  const nextLine = () => {
    tlm = multiply([1, 0, 0, 1, 0, -state.leading], tlm);
    tm = tlm;
  };
  while (budget.ops-- > 0) {
    lexer.skipWs();
    if (lexer.pos >= data.length) break;
    let token: PdfValue | PdfOp;
    try {
      token = lexer.readValue(0, true);
    } catch {
      lexer.pos++;
      operands.length = 0;
      continue;
    }
    if (!(token instanceof PdfOp)) {
      operands.push(token);
      if (operands.length > 64) operands.shift();
      continue;
    }
    switch (token.value) {
      case 'q':
        if (stack.length < 64) stack.push({ ...state });
        break;
      case 'Q':
        state = stack.pop() ?? state;
        break;
      case 'cm':
        state.ctm = multiply([num(6), num(5), num(4), num(3), num(2), num(1)], state.ctm);
        break;
      case 'BT':
        tm = IDENTITY;
        tlm = IDENTITY;
        break;
      case 'Tf': {
        const f = operands[operands.length - 2];
        if (f instanceof PdfName) state.font = getFont(f.value);
        state.size = num(1);
        break;
      }
      case 'Tc':
        state.charSpace = num(1);
        break;
      case 'Tw':
        state.wordSpace = num(1);
        break;
      case 'Tz':
        state.scale = num(1) / 100;
        break;
      case 'TL':
        state.leading = num(1);
        break;
      case 'Ts':
        state.rise = num(1);
        break;
      case 'Td':
        tlm = multiply([1, 0, 0, 1, num(2), num(1)], tlm);
        tm = tlm;
        break;
      case 'TD':
        state.leading = -num(1);
        tlm = multiply([1, 0, 0, 1, num(2), num(1)], tlm);
        tm = tlm;
        break;
      case 'Tm':
        tlm = [num(6), num(5), num(4), num(3), num(2), num(1)];
        tm = tlm;
        break;
      case 'T*':
        nextLine();
        break;
      case 'Tj': {
        const s = operands[operands.length - 1];
        if (s instanceof PdfString) show(s.bytes);
        break;
      }
      case "'": {
        nextLine();
        const s = operands[operands.length - 1];
        if (s instanceof PdfString) show(s.bytes);
        break;
      }
      case '"': {
        state.wordSpace = num(3);
        state.charSpace = num(2);
        nextLine();
        const s = operands[operands.length - 1];
        if (s instanceof PdfString) show(s.bytes);
        break;
      }
      case 'TJ': {
        const arr = operands[operands.length - 1];
        if (Array.isArray(arr)) {
          for (const item of arr) {
            if (item instanceof PdfString) show(item.bytes);
            else if (isNumber(item)) tm = multiply([1, 0, 0, 1, (-item / 1000) * state.size * state.scale, 0], tm);
          }
        }
        break;
      }
      case 'Do': {
        const n = operands[operands.length - 1];
        const xo = n instanceof PdfName && xobjects ? doc.resolve(xobjects.get(n.value)) : null;
        if (xo instanceof PdfStream && isName(xo.dict.get('Subtype'), 'Form')) {
          const m = doc.resolve(xo.dict.get('Matrix'));
          const matrix = Array.isArray(m) && m.length === 6 && m.every(isNumber) ? (m as Matrix) : IDENTITY;
          try {
            run(
              doc,
              doc.decode(xo),
              doc.dict(xo.dict.get('Resources')) ?? resources,
              multiply(matrix, state.ctm),
              glyphs,
              budget,
              depth + 1,
            );
          } catch {
            // An unreadable form leaves the rest of the page searchable.
          }
        }
        break;
      }
      case 'BI': {
        // Skip inline image data up to EI (§8.9.7).
        const at = data.indexOf('EI', lexer.pos, 'latin1');
        lexer.pos = at < 0 ? data.length : at + 2;
        break;
      }
      default:
        break;
    }
    operands.length = 0;
  }
}

export interface KeywordMatch {
  page: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

const normalise = (text: string) => text.normalize('NFKC').replace(/\s+/g, '');

/** The first occurrence of `keyword` (whitespace and width variants ignored), on `onPage` or any page. */
export function findKeyword(doc: PdfDocument, keyword: string, onPage?: number): KeywordMatch | null {
  const wanted = normalise(keyword);
  if (!wanted) return null;
  const pages = onPage ? [doc.page(onPage)] : doc.pages();
  for (const page of pages) {
    const glyphs = pageGlyphs(doc, page.dict);
    let text = '';
    const owner: number[] = [];
    glyphs.forEach((g, i) => {
      for (const ch of normalise(g.text)) {
        text += ch;
        owner.push(i);
      }
    });
    const at = text.indexOf(wanted);
    if (at < 0) continue;
    const first = owner[at]!;
    const last = owner[at + wanted.length - 1]!;
    const boxes = glyphs.slice(first, last + 1).map((g) => g.box);
    const x0 = Math.min(...boxes.map((b) => b[0]));
    const y0 = Math.min(...boxes.map((b) => b[1]));
    const x1 = Math.max(...boxes.map((b) => b[2]));
    const y1 = Math.max(...boxes.map((b) => b[3]));
    return { page: page.index + 1, x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
  }
  return null;
}
