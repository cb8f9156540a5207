// An OFD page drawn as SVG, and through resvg as PNG, for previews, field placement and the
// verification report. Text is drawn as outlines (glyphs.ts), so the SVG needs no font; images
// are inlined as data URLs; each object is clipped to its Boundary (GB/T 33190 §8.1: what lies
// outside an object's boundary is not shown). Seal stamps of the document's signatures are drawn
// last, over the page, from the seal's own picture.
import { resvg } from '../seal-image/resvg.js';
import { OfdError } from './errors.js';
import { bundledGlyphs, embeddedGlyphs, type GlyphSource } from './glyphs.js';
import type { Box, Color, Matrix, PageContent, PageObject, TextObject } from './model.js';
import type { OfdFile } from './reader.js';
import { openOfd } from './reader.js';
import type { SealPicture } from './seal-picture.js';
import { escapeXml } from './xml.js';

/** A seal impression to draw over a page: the picture fitted to `boundary`, only `clip` (in the boundary's coordinates) shown. */
export interface Stamp {
  boundary: Box;
  clip?: Box;
  picture: SealPicture;
}

export interface RenderPageOptions {
  /** Stamps to draw on this page (see `pageStamps` in signatures.ts). */
  stamps?: Stamp[];
  /** Draw glyphs at most this many times; past it the page is refused, not cut short silently. */
  maxGlyphs?: number;
}

export interface RenderedSvg {
  svg: string;
  widthMm: number;
  heightMm: number;
  /** What could not be drawn (an image format, a font), for the report. */
  warnings: string[];
}

const DEFAULT_MAX_GLYPHS = 500_000;
const r = (n: number) => String(Math.round(n * 1000) / 1000);

function colorAttrs(prefix: 'fill' | 'stroke', color: Color | undefined, fallback: string): string {
  if (!color) return ` ${prefix}="${fallback}"`;
  const [red, green, blue] = color.rgb;
  const opacity = color.alpha < 255 ? ` ${prefix}-opacity="${r(color.alpha / 255)}"` : '';
  return ` ${prefix}="rgb(${Math.round(red)},${Math.round(green)},${Math.round(blue)})"${opacity}`;
}

/** AbbreviatedData (GB/T 33190 §9.1.4, table 36) as SVG path data; undefined when it holds an unknown operator. */
export function pathData(data: string): string | undefined {
  const tokens = data.trim().split(/\s+/).filter(Boolean);
  const operands: Record<string, [string, number]> = {
    S: ['M', 2],
    M: ['M', 2],
    L: ['L', 2],
    Q: ['Q', 4],
    B: ['C', 6],
    A: ['A', 7],
    C: ['Z', 0],
  };
  const out: string[] = [];
  for (let i = 0; i < tokens.length;) {
    const op = operands[tokens[i]!];
    if (!op) return undefined;
    const args = tokens.slice(i + 1, i + 1 + op[1]).map(Number);
    if (args.length !== op[1] || args.some((n) => !Number.isFinite(n))) return undefined;
    out.push(op[0] + (args.length ? ' ' + args.map(r).join(' ') : ''));
    i += 1 + op[1];
  }
  return out.join(' ');
}

/** The MIME type of image bytes by their signature, whatever a file name or format attribute claims. */
function sniff(bytes: Uint8Array): string | undefined {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'image/png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'image/jpeg';
  if (bytes[0] === 0x47 && bytes[1] === 0x49 && bytes[2] === 0x46) return 'image/gif';
  const head = new TextDecoder().decode(bytes.subarray(0, 256));
  if (
    /<svg[\s>]/.test(head) ||
    (/^\s*<\?xml/.test(head) && /<svg/.test(new TextDecoder().decode(bytes.subarray(0, 4096))))
  )
    return 'image/svg+xml';
  return undefined;
}

const dataUrl = (mime: string, bytes: Uint8Array) => `data:${mime};base64,${Buffer.from(bytes).toString('base64')}`;

class PageDrawer {
  private readonly defs = new Map<string, string>();
  private clips = 0;
  private glyphs = 0;
  private readonly fontSources = new Map<string, GlyphSource | undefined>();
  readonly warnings: string[] = [];

  constructor(
    private readonly file: OfdFile,
    private readonly maxGlyphs: number,
  ) {}

  private clip(box: Box): string {
    const [, , w, h] = box;
    const id = `c${this.clips++}`;
    this.defs.set(
      id,
      `<clipPath id="${id}"><rect x="${r(Math.min(0, w))}" y="${r(Math.min(0, h))}" width="${r(Math.abs(w))}" height="${r(Math.abs(h))}"/></clipPath>`,
    );
    return id;
  }

  private frame(object: { boundary: Box; ctm?: Matrix; alpha?: number }, inner: string): string {
    const [x, y] = object.boundary;
    const clip = this.clip(object.boundary);
    const ctm = object.ctm ? `<g transform="matrix(${object.ctm.map(r).join(' ')})">${inner}</g>` : inner;
    const alpha = object.alpha !== undefined && object.alpha < 255 ? ` opacity="${r(object.alpha / 255)}"` : '';
    return `<g transform="translate(${r(x)} ${r(y)})" clip-path="url(#${clip})"${alpha}>${ctm}</g>`;
  }

  private fontSource(fontId: string): GlyphSource | undefined {
    if (this.fontSources.has(fontId)) return this.fontSources.get(fontId);
    const font = this.file.document.fonts.get(fontId);
    let source: GlyphSource | undefined;
    if (font?.file) {
      const name = this.file.package.find(font.file);
      source = name ? embeddedGlyphs(this.file.package.files.get(name)!, `f${this.fontSources.size}`) : undefined;
      if (!source) this.warnings.push(`font ${font.fontName} (${font.file}) could not be read; drawn in Noto Sans SC`);
    }
    this.fontSources.set(fontId, source);
    return source;
  }

  private text(object: TextObject): string {
    const embedded = this.fontSource(object.font);
    const font = this.file.document.fonts.get(object.font);
    const fallback = bundledGlyphs((object.weight ?? 400) >= 600 || font?.bold ? 'Bold' : 'Regular');
    const uses: string[] = [];
    for (const code of object.codes) {
      let x = code.x;
      let y = code.y;
      let advance = 0;
      Array.from(code.text).forEach((char, i) => {
        // A DeltaX shorter than the text repeats its last value (what producers mean by writing one
        // value for a run of digits); without any, glyphs advance by their own width.
        if (i > 0) {
          x += code.deltaX[i - 1] ?? code.deltaX.at(-1) ?? advance;
          y += code.deltaY[i - 1] ?? 0;
        }
        if (++this.glyphs > this.maxGlyphs)
          throw new OfdError('ofd_too_large', `the page draws more than ${this.maxGlyphs} glyphs`);
        const glyph = embedded?.glyph(char) ?? fallback.glyph(char);
        advance = glyph ? (glyph.advance / glyph.unitsPerEm) * object.size : object.size;
        if (!glyph || !glyph.d) return;
        if (!this.defs.has(glyph.key)) this.defs.set(glyph.key, `<path id="${glyph.key}" d="${glyph.d}"/>`);
        // Outlines are in font units with y up; the page's y goes down.
        const k = Number((object.size / glyph.unitsPerEm).toPrecision(6));
        const skew = object.italic ? ' skewX(-12)' : '';
        uses.push(`<use href="#${glyph.key}" transform="translate(${r(x)} ${r(y)})${skew} scale(${k} ${-k})"/>`);
      });
    }
    const paint = object.fill ? colorAttrs('fill', object.fillColor, '#000') : ' fill="none"';
    const stroke = object.stroke ? `${colorAttrs('stroke', object.strokeColor, '#000')} stroke-width="0.1"` : '';
    const label = escapeXml(object.codes.map((c) => c.text).join(''));
    return this.frame(object, `<g class="text" aria-label="${label}"${paint}${stroke}>${uses.join('')}</g>`);
  }

  private image(resourceId: string, object: { boundary: Box; ctm?: Matrix; alpha?: number }): string {
    const media = this.file.document.media.get(resourceId);
    const name = media && this.file.package.find(media.file);
    const bytes = name ? this.file.package.files.get(name) : undefined;
    const mime = bytes && sniff(bytes);
    if (!bytes || !mime) {
      this.warnings.push(`image ${resourceId} ${bytes ? 'is in a format not drawn here' : 'is not in the package'}`);
      return '';
    }
    // An image fills the unit square, which its CTM maps onto the boundary (§10.2); without a CTM it fills the boundary.
    const ctm: Matrix = object.ctm ?? [object.boundary[2], 0, 0, object.boundary[3], 0, 0];
    return this.frame(
      { ...object, ctm },
      `<image class="image" width="1" height="1" preserveAspectRatio="none" href="${dataUrl(mime, bytes)}"/>`,
    );
  }

  objects(objects: PageObject[]): string {
    return objects
      .map((object) => {
        switch (object.kind) {
          case 'text':
            return this.text(object);
          case 'image':
            return this.image(object.resourceId, object);
          case 'block':
            return `<g>${this.objects(object.objects)}</g>`;
          case 'path': {
            const d = pathData(object.data);
            if (d === undefined) {
              this.warnings.push(`path ${object.id ?? ''} has data that is not OFD path data; not drawn`);
              return '';
            }
            const fill = object.fill ? colorAttrs('fill', object.fillColor, '#000') : ' fill="none"';
            const stroke = object.stroke
              ? `${colorAttrs('stroke', object.strokeColor, '#000')} stroke-width="${r(object.lineWidth)}"`
              : '';
            const rule = object.evenOdd ? ' fill-rule="evenodd"' : '';
            return this.frame(object, `<path class="path" d="${d}"${fill}${stroke}${rule}/>`);
          }
        }
      })
      .join('');
  }

  content(content: PageContent): string {
    const order = ['Background', 'Body', 'Foreground'] as const;
    return order
      .flatMap((type) => content.layers.filter((l) => l.type === type))
      .map((layer) => `<g class="layer">${this.objects(layer.objects)}</g>`)
      .join('');
  }

  /** An annotation's appearance: its objects in the coordinates of its boundary, clipped to it. */
  annotation(appearance: { boundary: Box; objects: PageObject[] }): string {
    return this.frame({ boundary: appearance.boundary }, `<g class="annot">${this.objects(appearance.objects)}</g>`);
  }

  stamp(stamp: Stamp): string {
    const [x, y, w, h] = stamp.boundary;
    const { picture } = stamp;
    // The bytes decide, not the type the seal states (a "JPG" seal holding a PNG is common).
    const mime = sniff(picture.data);
    const href =
      picture.type === 'OFD' ? nestedOfd(picture.data, this.warnings) : mime ? dataUrl(mime, picture.data) : undefined;
    if (!href) this.warnings.push(`a seal picture of type ${picture.type} is not drawn here`);
    const clip = stamp.clip
      ? (() => {
          const id = `c${this.clips++}`;
          const [cx, cy, cw, ch] = stamp.clip;
          this.defs.set(
            id,
            `<clipPath id="${id}"><rect x="${r(cx)}" y="${r(cy)}" width="${r(cw)}" height="${r(ch)}"/></clipPath>`,
          );
          return ` clip-path="url(#${id})"`;
        })()
      : '';
    const body = href
      ? `<image width="${r(w)}" height="${r(h)}" preserveAspectRatio="none" href="${href}"/>`
      : `<rect width="${r(w)}" height="${r(h)}" fill="none" stroke="#c00" stroke-width="0.5"/>`;
    // Multiplied onto the page as ink is: a seal picture's white background does not hide the text under it.
    return `<g class="stamp" transform="translate(${r(x)} ${r(y)})" style="mix-blend-mode:multiply"${clip}>${body}</g>`;
  }

  svg(box: Box, body: string): string {
    const [x, y, w, h] = box;
    return [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${r(w)}mm" height="${r(h)}mm" viewBox="${r(x)} ${r(y)} ${r(w)} ${r(h)}">`,
      `<defs>${[...this.defs.values()].join('')}</defs>`,
      `<rect x="${r(x)}" y="${r(y)}" width="${r(w)}" height="${r(h)}" fill="#fff"/>`,
      body,
      '</svg>',
    ].join('');
  }
}

/** A seal picture that is itself an OFD document (some producers make them): its first page as an SVG data URL. */
function nestedOfd(bytes: Uint8Array, warnings: string[]): string | undefined {
  try {
    const inner = openOfd(bytes, {
      maxPackageBytes: 4 * 1024 * 1024,
      maxEntries: 100,
      maxEntryBytes: 4 * 1024 * 1024,
      maxTotalBytes: 8 * 1024 * 1024,
      maxCompressionRatio: 200,
      ratioFloorBytes: 1024 * 1024,
      maxXmlBytes: 1024 * 1024,
      maxXmlDepth: 64,
      maxPages: 1,
      maxObjectsPerPage: 10_000,
      maxSignatures: 0,
      maxReferences: 0,
    });
    const page = renderPageSvg(inner, 0, { maxGlyphs: 10_000, transparent: true });
    return dataUrl('image/svg+xml', new TextEncoder().encode(page.svg));
  } catch (error) {
    warnings.push(`a seal picture in OFD form cannot be read: ${(error as Error).message}`);
    return undefined;
  }
}

/** Page `index` (0-based) as a standalone SVG in millimetres: templates, layers, then stamps. */
export function renderPageSvg(
  file: OfdFile,
  index: number,
  options: RenderPageOptions & { transparent?: boolean } = {},
): RenderedSvg {
  const page = file.page(index);
  const drawer = new PageDrawer(file, options.maxGlyphs ?? DEFAULT_MAX_GLYPHS);
  const parts = [
    ...page.templates.filter((t) => t.zOrder === 'Background').map((t) => drawer.content(t.content)),
    drawer.content(page.content),
    ...page.templates.filter((t) => t.zOrder === 'Foreground').map((t) => drawer.content(t.content)),
    ...page.annotations.filter((a) => a.visible && a.appearance).map((a) => drawer.annotation(a.appearance!)),
    ...(options.stamps ?? []).map((s) => drawer.stamp(s)),
  ];
  let svg = drawer.svg(page.physicalBox, parts.join(''));
  if (options.transparent) svg = svg.replace(/<rect [^>]*fill="#fff"\/>/, '');
  return {
    svg,
    widthMm: page.physicalBox[2],
    heightMm: page.physicalBox[3],
    warnings: [...file.document.warnings, ...drawer.warnings],
  };
}

export const PNG_LIMITS = { minPxPerMm: 1, maxPxPerMm: 24, maxPx: 8192 } as const;

/** Page `index` as a PNG, `pxPerMm` pixels per millimetre (4 ≈ 100 dpi), rendered off the event loop. */
export async function renderPagePng(
  file: OfdFile,
  index: number,
  options: RenderPageOptions & { pxPerMm?: number } = {},
): Promise<{ png: Buffer; width: number; height: number; warnings: string[] }> {
  const pxPerMm = options.pxPerMm ?? 4;
  if (!(pxPerMm >= PNG_LIMITS.minPxPerMm && pxPerMm <= PNG_LIMITS.maxPxPerMm))
    throw new OfdError('ofd_too_large', `pxPerMm must be ${PNG_LIMITS.minPxPerMm}…${PNG_LIMITS.maxPxPerMm}`);
  const rendered = renderPageSvg(file, index, options);
  const width = Math.round(rendered.widthMm * pxPerMm);
  const height = Math.round(rendered.heightMm * pxPerMm);
  if (width < 1 || height < 1 || width > PNG_LIMITS.maxPx || height > PNG_LIMITS.maxPx)
    throw new OfdError(
      'ofd_too_large',
      `the page would be ${width}×${height} px; at most ${PNG_LIMITS.maxPx} px a side are drawn`,
    );
  // Every glyph is an outline already: no font is loaded, and none of the machine's.
  const image = await resvg().renderAsync(rendered.svg, {
    fitTo: { mode: 'width', value: width },
    font: { loadSystemFonts: false },
    logLevel: 'off',
  });
  return { png: image.asPng(), width: image.width, height: image.height, warnings: rendered.warnings };
}
