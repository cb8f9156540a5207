// Test and bench PDFs, written by hand so that their structure is known: a classic cross-reference
// table, optional Flate-compressed content, optional incompressible image ballast to reach a size,
// and CJK text in a Type0 font with a ToUnicode CMap (the font itself is not embedded, which
// text extraction does not need).
import { deflateSync } from 'node:zlib';

/** A deterministic PRNG (mulberry32), so fixtures and fuzz cases repeat exactly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FixtureOptions {
  pages?: number;
  /** Lines of Latin text per page. */
  lines?: string[];
  /** CJK lines drawn with a Type0/Identity-H font and a ToUnicode CMap. */
  cjkLines?: string[];
  /** Add a random-noise image to each page so that the file reaches about this many bytes. */
  targetBytes?: number;
  compress?: boolean;
  seed?: number;
  /** How the ToUnicode CMap maps CIDs: one bfchar per glyph, or one bfrange with an array. */
  toUnicode?: 'bfchar' | 'bfrange';
  /** Show each CJK line as a TJ array with kerning between glyphs instead of one Tj. */
  kerned?: boolean;
}

function escapeText(s: string): string {
  return s.replace(/[\\()]/g, (c) => `\\${c}`);
}

/** Builds a PDF 1.7 file with a classic xref table. */
export function buildPdf(options: FixtureOptions = {}): Buffer {
  const pages = options.pages ?? 1;
  const lines = options.lines ?? ['Sigil test document', 'Contract No. 2026-001'];
  const cjk = options.cjkLines ?? [];
  const random = prng(options.seed ?? 1);
  const objects: Buffer[] = [];
  const add = (body: Buffer | string): number => {
    objects.push(Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1'));
    return objects.length;
  };
  const stream = (dict: string, data: Buffer, compress = options.compress ?? true) => {
    const payload = compress ? deflateSync(data) : data;
    return Buffer.concat([
      Buffer.from(`<<${dict}${compress ? '/Filter/FlateDecode' : ''}/Length ${payload.length}>>\nstream\n`, 'latin1'),
      payload,
      Buffer.from('\nendstream', 'latin1'),
    ]);
  };

  const catalog = add(''); // filled below
  const pagesObj = add('');
  const helv = add('<</Type/Font/Subtype/Type1/BaseFont/Helvetica/Encoding/WinAnsiEncoding>>');
  let cjkFont = 0;
  const cidOf = new Map<string, number>();
  if (cjk.length) {
    for (const ch of [...new Set(cjk.join(''))]) cidOf.set(ch, cidOf.size + 1);
    let cmap =
      '/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo <</Registry (Adobe) /Ordering (UCS) /Supplement 0>> def\n/CMapName /Sigil-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n';
    const hex = (ch: string) => Buffer.from(ch, 'utf16le').swap16().toString('hex');
    if (options.toUnicode === 'bfrange') {
      cmap += `1 beginbfrange\n<0001> <${cidOf.size.toString(16).padStart(4, '0')}> [${[...cidOf.keys()].map((ch) => `<${hex(ch)}>`).join(' ')}]\nendbfrange\n`;
    } else {
      cmap += `${cidOf.size} beginbfchar\n`;
      for (const [ch, cid] of cidOf) cmap += `<${cid.toString(16).padStart(4, '0')}> <${hex(ch)}>\n`;
      cmap += 'endbfchar\n';
    }
    cmap += 'endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n';
    const toUnicode = add(stream('', Buffer.from(cmap, 'latin1')));
    const descriptor = add(
      '<</Type/FontDescriptor/FontName/SimSun/Flags 6/FontBBox[0 -141 1000 859]/ItalicAngle 0/Ascent 859/Descent -141/CapHeight 859/StemV 80>>',
    );
    const cidFont = add(
      `<</Type/Font/Subtype/CIDFontType2/BaseFont/SimSun/CIDSystemInfo<</Registry(Adobe)/Ordering(GB1)/Supplement 2>>/FontDescriptor ${descriptor} 0 R/DW 1000/CIDToGIDMap/Identity>>`,
    );
    cjkFont = add(
      `<</Type/Font/Subtype/Type0/BaseFont/SimSun/Encoding/Identity-H/DescendantFonts[${cidFont} 0 R]/ToUnicode ${toUnicode} 0 R>>`,
    );
  }

  const pageRefs: number[] = [];
  const perPageBallast = options.targetBytes ? Math.max(0, Math.floor(options.targetBytes / pages) - 1500) : 0;
  for (let p = 0; p < pages; p++) {
    let content = 'BT /F1 12 Tf 72 740 Td 14 TL\n';
    for (const line of lines) content += `(${escapeText(line)}) Tj T*\n`;
    content += `(Page ${p + 1} of ${pages}) Tj\nET\n`;
    if (cjk.length) {
      content += 'BT /F2 14 Tf 72 600 Td 20 TL\n';
      const code = (ch: string) => cidOf.get(ch)!.toString(16).padStart(4, '0');
      for (const line of cjk) {
        if (options.kerned) content += `[${[...line].map((ch) => `<${code(ch)}>`).join(' -50 ')}] TJ T*\n`;
        else content += `<${[...line].map(code).join('')}> Tj T*\n`;
      }
      content += 'ET\n';
    }
    let xobjects = '';
    if (perPageBallast > 0) {
      // Random RGB samples do not compress, so the file size is predictable.
      const side = Math.max(1, Math.floor(Math.sqrt(perPageBallast / 3)));
      const samples = Buffer.alloc(side * side * 3);
      for (let i = 0; i < samples.length; i += 4)
        samples.writeUInt32LE((random() * 0x100000000) >>> 0, Math.min(i, samples.length - 4));
      const img = add(
        stream(
          `/Type/XObject/Subtype/Image/Width ${side}/Height ${side}/ColorSpace/DeviceRGB/BitsPerComponent 8`,
          samples,
          false,
        ),
      );
      xobjects = `/XObject<</Im1 ${img} 0 R>>`;
      content += 'q 200 0 0 200 300 300 cm /Im1 Do Q\n';
    }
    const contents = add(stream('', Buffer.from(content, 'latin1')));
    const fonts = `/F1 ${helv} 0 R${cjkFont ? `/F2 ${cjkFont} 0 R` : ''}`;
    pageRefs.push(
      add(
        `<</Type/Page/Parent ${pagesObj} 0 R/MediaBox[0 0 595 842]/Resources<</Font<<${fonts}>>${xobjects}>>/Contents ${contents} 0 R>>`,
      ),
    );
  }
  objects[catalog - 1] = Buffer.from(`<</Type/Catalog/Pages ${pagesObj} 0 R>>`, 'latin1');
  objects[pagesObj - 1] = Buffer.from(
    `<</Type/Pages/Kids[${pageRefs.map((r) => `${r} 0 R`).join(' ')}]/Count ${pages}>>`,
    'latin1',
  );
  const info = add(`<</Producer(Sigil test fixtures)/CreationDate(D:20260101000000Z)>>`);

  const parts: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  let pos = parts[0]!.length;
  const offsets: number[] = [];
  objects.forEach((body, i) => {
    offsets.push(pos);
    const chunk = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`, 'latin1'), body, Buffer.from('\nendobj\n', 'latin1')]);
    parts.push(chunk);
    pos += chunk.length;
  });
  let xref = `xref\n0 ${objects.length + 1}\n0000000000 65535 f\r\n`;
  for (const o of offsets) xref += `${String(o).padStart(10, '0')} 00000 n\r\n`;
  const id = Buffer.from(Array.from({ length: 16 }, () => Math.floor(random() * 256))).toString('hex');
  xref += `trailer\n<</Size ${objects.length + 1}/Root ${catalog} 0 R/Info ${info} 0 R/ID[<${id}><${id}>]>>\nstartxref\n${pos}\n%%EOF\n`;
  parts.push(Buffer.from(xref, 'latin1'));
  return Buffer.concat(parts);
}
