// Drawing OFD pages: the SVG has each TextObject as a group of glyph outlines at the places its
// DeltaX gives (in the embedded font when the document has one, else Noto Sans SC), images inline,
// each object clipped to its Boundary, and the seals of the signatures on top. PNGs of ofdrw's
// fixtures are saved under test-output/ofd/ to be looked at.
import { mkdirSync, writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { openOfd, pageStamps, renderPagePng, renderPageSvg } from '../../src/ofd/index.js';
import { pathData } from '../../src/ofd/render.js';
import { fixture, pythonZip, tempDir } from './support.js';

beforeAll(() => mkdirSync('test-output/ofd', { recursive: true }));

const uses = (svg: string, label: string) => {
  const group = new RegExp(`<g class="text" aria-label="${label}"[^>]*>(.*?)</g>`).exec(svg);
  return [...(group?.[1] ?? '').matchAll(/<use href="#([^"]+)" transform="translate\(([-\d.]+) ([-\d.]+)\)/g)].map(
    (m) => ({
      glyph: m[1]!,
      x: Number(m[2]),
      y: Number(m[3]),
    }),
  );
};

describe('rendering OFD pages', () => {
  it('draws helloworld.ofd’s text glyph by glyph at its DeltaX, in the bundled font (the document embeds none)', () => {
    const { svg, widthMm, heightMm, warnings } = renderPageSvg(openOfd(fixture('helloworld.ofd')), 0);
    expect([widthMm, heightMm, warnings]).toEqual([210, 297, []]);
    expect(svg).toMatch(
      /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="210mm" height="297mm" viewBox="0 0 210 297">/,
    );
    const glyphs = uses(svg, '你好呀，OFD Reader&amp;Writer！');
    // 22 characters, the space draws nothing; DeltaX="3 3 3 3 1.5 …": x advances 3 mm four times, then 1.5 mm.
    expect(glyphs).toHaveLength(21);
    expect(glyphs.slice(0, 6).map((g) => g.x)).toEqual([0, 3, 6, 9, 12, 13.5]);
    expect(glyphs.every((g) => g.y === 3 && g.glyph.startsWith('notoR-'))).toBe(true);
    // The glyph outlines are defined once and the TextObject sits at its Boundary, clipped to it.
    for (const g of new Set(glyphs.map((x) => x.glyph))) expect(svg).toContain(`<path id="${g}" d="M`);
    expect(svg).toMatch(/<g transform="translate\(31\.7 25\.4\)" clip-path="url\(#c0\)"><g class="text"/);
    expect(svg).toContain('<clipPath id="c0"><rect x="0" y="0" width="40.5" height="5"/></clipPath>');
  });

  it('draws keyword.ofd with its embedded font, its template image and the rotated watermark', () => {
    const { svg } = renderPageSvg(openOfd(fixture('keyword.ofd')), 0);
    expect(uses(svg, '李伟').every((g) => g.glyph.startsWith('f0-'))).toBe(true);
    expect(svg.match(/<image class="image" [^>]*href="data:image\/png;base64,/g)).toHaveLength(1);
    expect(svg.match(/<g class="text" /g)).toHaveLength(13);
    expect(svg).toContain(
      '<g transform="matrix(0.707 -0.707 0.707 0.707 0 0)"><g class="text" aria-label="事由户籍办理房产证明" fill="rgb(153,153,153)" fill-opacity="0.314">',
    );
    // A Boundary with a negative height clips the region above its origin.
    expect(svg).toMatch(/<rect x="0" y="-87\.48" width="87\.48" height="87\.48"\/>/);
  });

  it('draws v4signed.ofd’s paths from AbbreviatedData and its seal (an OFD picture) over the page', () => {
    const file = openOfd(fixture('v4signed.ofd'));
    const stamps = pageStamps(file, 0);
    expect(stamps.map((s) => [s.boundary, s.picture.type])).toEqual([[[90, 8, 30, 20], 'OFD']]);
    const { svg, warnings } = renderPageSvg(file, 0, { stamps });
    expect(warnings).toEqual([]);
    expect(svg).toContain(
      '<path class="path" d="M 0 0.2 L 73 0.2" fill="none" stroke="rgb(156,82,35)" stroke-width="0.25"/>',
    );
    expect(svg).toMatch(
      /<g class="stamp" transform="translate\(90 8\)" style="mix-blend-mode:multiply"><image width="30" height="20" preserveAspectRatio="none" href="data:image\/svg\+xml;base64,/,
    );
    const nested = Buffer.from(
      /<g class="stamp"[^>]*><image [^>]*href="data:image\/svg\+xml;base64,([^"]+)"/.exec(svg)![1]!,
      'base64',
    ).toString();
    expect(nested).toContain('aria-label="国家税务总局"');
    expect(nested).toContain('fill="rgb(255,0,0)"');
  });

  it('draws a page annotation’s appearance over the page, in the appearance’s coordinates, and skips an invisible one', () => {
    const tmp = tempDir('sigil-ofd-render-');
    try {
      const annot = (id: string, visible: string) =>
        `<ofd:Annot ID="${id}" Type="Watermark" Visible="${visible}"><ofd:Appearance Boundary="20 30 50 10"><ofd:PathObject ID="${id}0" Boundary="0 0 50 10" Fill="true" Stroke="false"><ofd:FillColor Value="0 0 255"/><ofd:AbbreviatedData>M 0 0 L 50 0 L 50 10 L 0 10 C</ofd:AbbreviatedData></ofd:PathObject></ofd:Appearance></ofd:Annot>`;
      const ns = 'xmlns:ofd="http://www.ofdspec.org/2016"';
      const ofd = pythonZip(tmp, {
        set: {
          'OFD.xml': `<?xml version="1.0" encoding="UTF-8"?><ofd:OFD ${ns} Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>`,
          'Doc_0/Document.xml': `<?xml version="1.0" encoding="UTF-8"?><ofd:Document ${ns}><ofd:CommonData><ofd:MaxUnitID>9</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>0 0 100 100</ofd:PhysicalBox></ofd:PageArea></ofd:CommonData><ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages><ofd:Annotations>Annots/Annotations.xml</ofd:Annotations></ofd:Document>`,
          'Doc_0/Pages/Page_0/Content.xml': `<?xml version="1.0" encoding="UTF-8"?><ofd:Page ${ns}><ofd:Content><ofd:Layer ID="2"/></ofd:Content></ofd:Page>`,
          'Doc_0/Annots/Annotations.xml': `<?xml version="1.0" encoding="UTF-8"?><ofd:Annotations ${ns}><ofd:Page PageID="1"><ofd:FileLoc>Page_0/Annotation.xml</ofd:FileLoc></ofd:Page></ofd:Annotations>`,
          'Doc_0/Annots/Page_0/Annotation.xml': `<?xml version="1.0" encoding="UTF-8"?><ofd:PageAnnot ${ns}>${annot('3', 'true')}${annot('4', 'false')}</ofd:PageAnnot>`,
        },
      });
      const { svg } = renderPageSvg(openOfd(ofd), 0);
      expect(svg.match(/<g class="annot">/g)).toHaveLength(1);
      expect(svg).toMatch(
        /<g transform="translate\(20 30\)" clip-path="url\(#c\d+\)"><g class="annot"><g transform="translate\(0 0\)" clip-path="url\(#c\d+\)"><path class="path" d="M 0 0 L 50 0 L 50 10 L 0 10 Z" fill="rgb\(0,0,255\)"\/>/,
      );
    } finally {
      tmp.remove();
    }
  });

  it('converts OFD path operators to SVG, and refuses data that is not OFD path data', () => {
    expect(pathData('S 0 0 L 1 1 Q 1 2 3 4 B 1 2 3 4 5 6 A 1 1 0 0 1 2 2 C')).toBe(
      'M 0 0 L 1 1 Q 1 2 3 4 C 1 2 3 4 5 6 A 1 1 0 0 1 2 2 Z',
    );
    expect(pathData('M 0 0 L 1')).toBeUndefined();
    expect(pathData('M 0 0 X 1 1')).toBeUndefined();
  });

  it.each([
    ['helloworld.ofd', 840, 1188],
    ['keyword.ofd', 1132, 784],
    ['v4signed.ofd', 840, 560],
  ])('renders %s to a PNG of the page’s size, saved to test-output/ofd/', async (name, width, height) => {
    const file = openOfd(fixture(name));
    const { png, warnings } = await renderPagePng(file, 0, { stamps: pageStamps(file, 0), pxPerMm: 4 });
    writeFileSync(`test-output/ofd/${name.replace('.ofd', '')}.png`, png);
    expect(warnings.filter((w) => !w.includes('Annotations.xml'))).toEqual([]);
    const image = PNG.sync.read(png);
    expect([image.width, image.height]).toEqual([width, height]);
    const pixel = (xMm: number, yMm: number) => {
      const i = (Math.round(yMm * 4) * image.width + Math.round(xMm * 4)) * 4;
      return [...image.data.subarray(i, i + 3)];
    };
    const inked = (x0: number, y0: number, x1: number, y1: number) => {
      let n = 0;
      for (let y = y0; y < y1; y += 0.25) for (let x = x0; x < x1; x += 0.25) if (pixel(x, y).some((c) => c < 128)) n++;
      return n;
    };
    if (name === 'helloworld.ofd') {
      expect(inked(31.7, 25.4, 72, 30.4)).toBeGreaterThan(200);
      expect(inked(100, 100, 200, 200)).toBe(0);
    }
    if (name === 'v4signed.ofd') {
      // The seal (box 90 8 30 20) is the only red on the page: the invoice itself is printed in brown and black.
      const red = (x0: number, y0: number, x1: number, y1: number) => {
        let n = 0;
        for (let y = y0; y < y1; y += 0.25)
          for (let x = x0; x < x1; x += 0.25) {
            const [r, g, b] = pixel(x, y);
            if (r! > 180 && g! < 90 && b! < 90) n++;
          }
        return n;
      };
      expect(red(90, 8, 120, 28)).toBeGreaterThan(500);
      expect(red(0, 30, 210, 140)).toBe(0);
    }
  });

  it('refuses a resolution out of range', async () => {
    await expect(renderPagePng(openOfd(fixture('helloworld.ofd')), 0, { pxPerMm: 100 })).rejects.toThrow(
      /pxPerMm must be 1…24/,
    );
  });
});
