// Stream decoding (ISO 32000-1 §7.4) for what the signer and verifier read: cross-reference and
// object streams, content streams (keyword search), images. Every output is size-bounded.
import { inflateSync, constants as zlib } from 'node:zlib';
import { PdfDict, PdfName, isDict, isName, isNumber, type PdfValue } from './objects.js';
import { pdfError } from './errors.js';

export interface DecodeBudget {
  /** Largest decoded size of one stream. */
  maxStreamBytes: number;
  /** Left of the whole document's decoding allowance; decremented as streams are decoded. */
  remaining: number;
}

function inflate(data: Buffer, budget: DecodeBudget): Buffer {
  const limit = Math.min(budget.maxStreamBytes, budget.remaining);
  try {
    return inflateSync(data, { maxOutputLength: limit + 1 });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (
      code === 'ERR_BUFFER_TOO_LARGE' ||
      (error instanceof RangeError && /maxOutputLength|too large/i.test(error.message))
    ) {
      pdfError('pdf_too_large', `a stream inflates to more than ${limit} bytes`);
    }
    // Many producers end streams without a proper zlib trailer; take what inflates (as readers do).
    try {
      return inflateSync(data, { maxOutputLength: limit + 1, finishFlush: zlib.Z_SYNC_FLUSH });
    } catch {
      return pdfError('pdf_malformed', 'a compressed stream is corrupt');
    }
  }
}

/** PNG (10–15) and TIFF (2) predictors (§7.4.4.4). */
function unpredict(data: Buffer, params: PdfDict | undefined): Buffer {
  if (!params) return data;
  const predictor = params.get('Predictor');
  if (!isNumber(predictor) || predictor <= 1) return data;
  const colors = num(params.get('Colors'), 1);
  const bpc = num(params.get('BitsPerComponent'), 8);
  const columns = num(params.get('Columns'), 1);
  if (colors < 1 || colors > 32 || ![1, 2, 4, 8, 16].includes(bpc) || columns < 1 || columns > 1 << 24)
    pdfError('pdf_malformed', 'bad predictor parameters');
  const bpp = Math.max(1, Math.ceil((colors * bpc) / 8));
  const rowLength = Math.ceil((colors * bpc * columns) / 8);
  if (predictor === 2) {
    if (bpc !== 8) return data;
    const out = Buffer.from(data);
    for (let row = 0; row + rowLength <= out.length; row += rowLength) {
      for (let i = bpp; i < rowLength; i++) out[row + i] = (out[row + i]! + out[row + i - bpp]!) & 0xff;
    }
    return out;
  }
  const rows = Math.floor(data.length / (rowLength + 1));
  const out = Buffer.alloc(rows * rowLength);
  let prev = Buffer.alloc(rowLength);
  for (let r = 0; r < rows; r++) {
    const type = data[r * (rowLength + 1)]!;
    const src = data.subarray(r * (rowLength + 1) + 1, (r + 1) * (rowLength + 1));
    const cur = out.subarray(r * rowLength, (r + 1) * rowLength);
    for (let i = 0; i < rowLength; i++) {
      const left = i >= bpp ? cur[i - bpp]! : 0;
      const up = prev[i]!;
      const upLeft = i >= bpp ? prev[i - bpp]! : 0;
      let v = src[i]!;
      switch (type) {
        case 1:
          v += left;
          break;
        case 2:
          v += up;
          break;
        case 3:
          v += (left + up) >> 1;
          break;
        case 4: {
          const p = left + up - upLeft;
          const pa = Math.abs(p - left);
          const pb = Math.abs(p - up);
          const pc = Math.abs(p - upLeft);
          v += pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
          break;
        }
        default:
          break;
      }
      cur[i] = v & 0xff;
    }
    prev = cur;
  }
  return out;
}

const num = (v: PdfValue | undefined, fallback: number) => (isNumber(v) ? v : fallback);

function asciiHex(data: Buffer): Buffer {
  const text = data.toString('latin1').replace(/\s+/g, '');
  const end = text.indexOf('>');
  let hex = end >= 0 ? text.slice(0, end) : text;
  if (!/^[0-9a-fA-F]*$/.test(hex)) pdfError('pdf_malformed', 'bad ASCIIHex data');
  if (hex.length % 2) hex += '0';
  return Buffer.from(hex, 'hex');
}

function ascii85(data: Buffer, limit: number): Buffer {
  const out: number[] = [];
  let group: number[] = [];
  for (const c of data) {
    if (c === 0x7e) break; // ~>
    if (c <= 0x20) continue;
    if (c === 0x7a && group.length === 0) {
      out.push(0, 0, 0, 0);
      continue;
    }
    if (c < 0x21 || c > 0x75) pdfError('pdf_malformed', 'bad ASCII85 data');
    group.push(c - 33);
    if (group.length === 5) {
      let v = 0;
      for (const g of group) v = v * 85 + g;
      out.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
      group = [];
    }
    if (out.length > limit) pdfError('pdf_too_large', 'an ASCII85 stream is too large');
  }
  if (group.length > 1) {
    const n = group.length;
    while (group.length < 5) group.push(84);
    let v = 0;
    for (const g of group) v = v * 85 + g;
    const bytes = [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
    out.push(...bytes.slice(0, n - 1));
  }
  return Buffer.from(out);
}

/**
 * Decodes a stream's data through its /Filter chain. Image codecs (DCT, JPX, CCITT, JBIG2) are
 * left encoded: `stopAtImage` returns the data as far as it could go.
 */
export function decodeStream(
  dict: PdfDict,
  data: Buffer,
  budget: DecodeBudget,
  resolve: (v: PdfValue | undefined) => PdfValue | undefined,
): Buffer {
  const filterValue = resolve(dict.get('Filter'));
  const filters: PdfValue[] = Array.isArray(filterValue) ? filterValue : filterValue ? [filterValue] : [];
  const paramsValue = resolve(dict.get('DecodeParms'));
  const params: PdfValue[] = Array.isArray(paramsValue) ? paramsValue : [paramsValue ?? null];
  if (filters.length > 8) pdfError('pdf_malformed', 'too many filters on one stream');
  let out = data;
  filters.forEach((f, i) => {
    const filter = resolve(f);
    if (!(filter instanceof PdfName)) pdfError('pdf_malformed', 'a /Filter is not a name');
    const p = resolve(params[i] ?? null);
    const dp = isDict(p) ? p : undefined;
    switch (filter.value) {
      case 'FlateDecode':
      case 'Fl':
        out = unpredict(inflate(out, budget), dp);
        break;
      case 'ASCIIHexDecode':
      case 'AHx':
        out = asciiHex(out);
        break;
      case 'ASCII85Decode':
      case 'A85':
        out = ascii85(out, budget.maxStreamBytes);
        break;
      default:
        pdfError('pdf_malformed', `stream filter /${filter.value} is not supported here`);
    }
    if (out.length > budget.maxStreamBytes) pdfError('pdf_too_large', 'a stream decodes to more than the limit');
  });
  budget.remaining -= out.length;
  if (budget.remaining < 0) pdfError('pdf_too_large', 'the document decodes to more than the limit');
  return out;
}

export const hasImageFilter = (dict: PdfDict): boolean => {
  const f = dict.get('Filter');
  const list = Array.isArray(f) ? f : [f];
  return list.some(
    (x) => isName(x) && ['DCTDecode', 'DCT', 'JPXDecode', 'CCITTFaxDecode', 'CCF', 'JBIG2Decode'].includes(x.value),
  );
};
