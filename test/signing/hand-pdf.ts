// PDFs and incremental updates written byte by byte in the tests, without Sigil's writer or
// parser: what a later revision adds is composed here, the objects it edits are read with qpdf,
// and signatures that Sigil did not make are computed by openssl cms.
import { readFileSync } from 'node:fs';
import { run, tempDir } from './support.js';

export interface HandObject {
  num: number;
  /** The object's value (and stream), without `N 0 obj` and `endobj`. */
  body: string | Buffer;
}

const latin1 = (text: string) => Buffer.from(text, 'latin1');

/** The newest classic trailer of a file, read from its bytes. */
export function lastTrailer(pdf: Buffer): { root: number; size: number; info: number | null; startxref: number } {
  const text = pdf.toString('latin1');
  const at = text.lastIndexOf('trailer');
  const trailer = text.slice(at, text.indexOf('startxref', at));
  const root = /\/Root\s+(\d+)\s+0\s+R/.exec(trailer);
  const size = /\/Size\s+(\d+)/.exec(trailer);
  const info = /\/Info\s+(\d+)\s+0\s+R/.exec(trailer);
  const startxref = [...text.matchAll(/startxref\s+(\d+)/g)].at(-1);
  if (at < 0 || !root || !size || !startxref) throw new Error('no classic trailer at the end of the file');
  return {
    root: Number(root[1]),
    size: Number(size[1]),
    info: info ? Number(info[1]) : null,
    startxref: Number(startxref[1]),
  };
}

/**
 * Appends one revision (ISO 32000-1 §7.5.6): the objects, a cross-reference table listing them,
 * a trailer with /Prev, startxref and %%EOF. `unlisted` objects are written among the others but
 * left out of the table, as the "incremental saving" attacks do.
 */
export function appendRevision(
  pdf: Buffer,
  objects: HandObject[],
  options: { unlisted?: HandObject[]; root?: number; prev?: number; relist?: Map<number, number> } = {},
): Buffer {
  const prev = lastTrailer(pdf);
  const parts: Buffer[] = [pdf];
  let pos = pdf.length;
  const push = (b: Buffer) => {
    parts.push(b);
    pos += b.length;
  };
  if (pdf[pdf.length - 1] !== 0x0a) push(latin1('\n'));
  const offsets = new Map<number, number>();
  for (const o of [...objects, ...(options.unlisted ?? [])]) {
    if (objects.includes(o)) offsets.set(o.num, pos);
    push(
      Buffer.concat([
        latin1(`${o.num} 0 obj\n`),
        Buffer.isBuffer(o.body) ? o.body : latin1(o.body),
        latin1('\nendobj\n'),
      ]),
    );
  }
  // Entries for objects written earlier, as a section whose /Prev skips their revision must carry.
  for (const [num, offset] of options.relist ?? []) if (!offsets.has(num)) offsets.set(num, offset);
  const xrefAt = pos;
  let xref = 'xref\n';
  for (const [num, offset] of [...offsets].sort((a, b) => a[0] - b[0]))
    xref += `${num} 1\n${String(offset).padStart(10, '0')} 00000 n\r\n`;
  const size = Math.max(prev.size, ...[...offsets.keys()].map((n) => n + 1));
  xref += `trailer\n<</Size ${size}/Root ${options.root ?? prev.root} 0 R${prev.info ? `/Info ${prev.info} 0 R` : ''}/Prev ${options.prev ?? prev.startxref}>>\nstartxref\n${xrefAt}\n%%EOF\n`;
  push(latin1(xref));
  return Buffer.concat(parts);
}

/** The entries of the newest classic cross-reference table, and the /Prev of its trailer. */
export function lastXrefTable(pdf: Buffer): { entries: Map<number, number>; prev: number } {
  const text = pdf.toString('latin1');
  const at = text.lastIndexOf('\nxref');
  const trailer = text.indexOf('trailer', at);
  const entries = new Map<number, number>();
  const lines = text
    .slice(at + 5, trailer)
    .trim()
    .split(/\r?\n/);
  for (let i = 0; i < lines.length;) {
    const [start, count] = lines[i]!.trim().split(/\s+/).map(Number) as [number, number];
    for (let k = 0; k < count; k++) {
      const [offset, , kind] = lines[i + 1 + k]!.trim().split(/\s+/);
      if (kind === 'n') entries.set(start + k, Number(offset));
    }
    i += count + 1;
  }
  const prev = /\/Prev\s+(\d+)/.exec(text.slice(trailer, text.indexOf('startxref', trailer)));
  return { entries, prev: Number(prev![1]) };
}

/** A stream object's body (dictionary entries without /Length, and the data). */
export function streamBody(dict: string, data: string | Buffer): Buffer {
  const bytes = Buffer.isBuffer(data) ? data : latin1(data);
  return Buffer.concat([latin1(`<<${dict}/Length ${bytes.length}>>\nstream\n`), bytes, latin1('\nendstream')]);
}

/** An appearance that paints a white box and black Helvetica text over whatever is beneath. */
export function overlayAppearance(width: number, height: number, text: string): Buffer {
  return streamBody(
    `/Type/XObject/Subtype/Form/BBox[0 0 ${width} ${height}]/Resources<</Font<</Helv<</Type/Font/Subtype/Type1/BaseFont/Helvetica/Encoding/WinAnsiEncoding>>>>>>`,
    `1 1 1 rg 0 0 ${width} ${height} re f 0 0 0 rg BT /Helv 20 Tf 6 ${height / 2 - 7} Td (${text}) Tj ET`,
  );
}

/** Reads objects as the file stands now, through qpdf. */
export class QpdfView {
  constructor(readonly file: string) {}

  object(num: number | 'trailer'): string {
    return run('qpdf', [`--show-object=${num}`, this.file]).out.trim();
  }

  /** Page object numbers in order. */
  pages(): number[] {
    return [...run('qpdf', ['--show-pages', this.file]).out.matchAll(/^page \d+: (\d+) 0 R/gm)].map((m) =>
      Number(m[1]),
    );
  }

  root(): number {
    return Number(/\/Root (\d+) 0 R/.exec(this.object('trailer'))![1]);
  }

  /** The AcroForm's object number (Sigil writes it as an object of its own). */
  acroForm(): number {
    const ref = /\/AcroForm (\d+) 0 R/.exec(this.object(this.root()));
    if (!ref) throw new Error('the catalog has no indirect /AcroForm');
    return Number(ref[1]);
  }
}

/** A dictionary as qpdf prints it, with `ref` appended to its array `key` (made when missing). */
export function withAppended(dict: string, key: string, ref: string): string {
  const direct = new RegExp(`/${key} \\[([^\\]]*)\\]`);
  if (direct.test(dict)) return dict.replace(direct, (_, items: string) => `/${key} [${items} ${ref} ]`);
  if (new RegExp(`/${key} \\d+ 0 R`).test(dict)) throw new Error(`/${key} is indirect; edit that object instead`);
  return dict.replace(/^<</, `<< /${key} [ ${ref} ]`);
}

export interface HandSigner {
  certificatePem: string;
  keyPem: string;
  chainPem: string;
}

/**
 * Signs a prepared revision with openssl cms (adbe.pkcs7.detached): `body` holds the signature
 * dictionary with `/ByteRange [0 0000000000 0000000000 0000000000]` and a zero-filled
 * `/Contents <…>`; the byte range is filled in, the ranges are signed by openssl, the DER goes
 * into the gap.
 */
export function signWithOpenssl(unsigned: Buffer, signer: HandSigner): Buffer {
  const text = unsigned.toString('latin1');
  const templ = '/ByteRange [0 0000000000 0000000000 0000000000]';
  const brAt = text.lastIndexOf(templ);
  const contentsAt = text.indexOf('/Contents <', brAt) + '/Contents '.length;
  const contentsEnd = text.indexOf('>', contentsAt) + 1;
  if (brAt < 0 || contentsAt < 10) throw new Error('no signature placeholder');
  const range = `/ByteRange [0 ${contentsAt} ${contentsEnd} ${unsigned.length - contentsEnd}]`.padEnd(
    templ.length,
    ' ',
  );
  const out = Buffer.from(unsigned);
  out.write(range, brAt, 'latin1');
  const tmp = tempDir('sigil-hand-sign-');
  try {
    const data = tmp.file('ranges.bin', Buffer.concat([out.subarray(0, contentsAt), out.subarray(contentsEnd)]));
    const cert = tmp.file('cert.pem', signer.certificatePem);
    const key = tmp.file('key.pem', signer.keyPem);
    const chain = tmp.file('chain.pem', signer.chainPem);
    const der = tmp.file('sig.der');
    run('openssl', [
      'cms',
      '-sign',
      '-binary',
      '-md',
      'sha256',
      '-in',
      data,
      '-signer',
      cert,
      '-inkey',
      key,
      '-certfile',
      chain,
      '-outform',
      'DER',
      '-out',
      der,
    ]);
    const hex = readFileSync(der).toString('hex');
    if (hex.length > contentsEnd - contentsAt - 2) throw new Error('the signature does not fit its placeholder');
    out.write(hex, contentsAt + 1, 'latin1');
    return out;
  } finally {
    tmp.remove();
  }
}

/** A whole PDF with a classic cross-reference table, objects numbered from 1 in order. */
export function handPdf(objects: Array<string | Buffer>, root = 1): Buffer {
  const parts: Buffer[] = [latin1('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n')];
  let pos = parts[0]!.length;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(pos);
    const chunk = Buffer.concat([
      latin1(`${i + 1} 0 obj\n`),
      Buffer.isBuffer(body) ? body : latin1(body),
      latin1('\nendobj\n'),
    ]);
    parts.push(chunk);
    pos += chunk.length;
  });
  let xref = `xref\n0 ${objects.length + 1}\n0000000000 65535 f\r\n`;
  for (const o of offsets) xref += `${String(o).padStart(10, '0')} 00000 n\r\n`;
  xref += `trailer\n<</Size ${objects.length + 1}/Root ${root} 0 R>>\nstartxref\n${pos}\n%%EOF\n`;
  parts.push(latin1(xref));
  return Buffer.concat(parts);
}

/** A signature dictionary ready for `signWithOpenssl`, with room for a DER of `reserve` bytes. */
export function signatureDictionary(extra = '', reserve = 8192): string {
  return `<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/adbe.pkcs7.detached/M(D:20260101120000Z)${extra}/ByteRange [0 0000000000 0000000000 0000000000]/Contents <${'0'.repeat(reserve * 2)}>>>`;
}
