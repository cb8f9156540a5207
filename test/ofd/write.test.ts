// OFD written from the contract templates, from the very layout of the PDF: checked against the
// standard's structural rules by Python's zip and XML readers (ofdrw cannot run here), read back
// by our reader with the same text, and compared with the text pdftotext finds in the PDF.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractText, openOfd, readPackage, renderPagePng, renderTemplateOfd } from '../../src/ofd/index.js';
import { encodeDeltas } from '../../src/ofd/writer.js';
import { renderTemplate, seedTemplates } from '../../src/templates/index.js';
import { requireTool, run, tempDir } from './support.js';

const tmp = tempDir('sigil-ofd-write-');
const NOW = new Date('2026-01-05T08:00:00Z');
beforeAll(() => {
  requireTool('pdftotext');
  requireTool('python3');
});
afterAll(() => tmp.remove());

interface Structure {
  problems: string[];
  pages: number;
  ids: number;
  maxUnitId: number;
  text: string[];
}

function structure(ofd: Uint8Array): Structure {
  const path = tmp.file(`s-${Math.random().toString(36).slice(2)}.ofd`, Buffer.from(ofd));
  return JSON.parse(
    execFileSync('python3', [join(import.meta.dirname, 'ofd-structure.py'), path]).toString(),
  ) as Structure;
}

const squeeze = (text: string) => text.replace(/\s+/g, '');

describe('writing OFD from contract templates', () => {
  it.each(seedTemplates.map((s) => [s.source.title, s] as const))(
    '%s: follows the standard’s structure and carries the PDF’s text, page by page',
    async (_, seed) => {
      const { ofd, pages } = await renderTemplateOfd(seed.source, seed.example, { now: NOW });
      const { pdf, pages: pdfPages } = await renderTemplate(seed.source, seed.example, { now: NOW });
      expect(pages).toBe(pdfPages);
      const checked = structure(ofd);
      expect(checked.problems).toEqual([]);
      expect(checked.pages).toBe(pages);
      expect(checked.maxUnitId).toBe(checked.ids);
      // Our reader reads back what Python reads, line for line.
      const ours = extractText(openOfd(ofd));
      expect(ours).toEqual(checked.text);
      // The same text as the PDF of the same template, as pdftotext extracts it page by page.
      const pdfPath = tmp.file(`${seed.source.title}.pdf`, pdf);
      for (let p = 0; p < pages; p++) {
        const pdfText = run('pdftotext', ['-f', String(p + 1), '-l', String(p + 1), '-enc', 'UTF-8', pdfPath, '-']).out;
        expect(squeeze(ours[p]!)).toBe(squeeze(pdfText));
      }
    },
  );

  it('writes A4 pages, the bundled fonts by name (or embedded when asked) and the same bytes for the same input', async () => {
    const seed = seedTemplates[0]!;
    const first = await renderTemplateOfd(seed.source, seed.example, { now: NOW });
    const again = await renderTemplateOfd(seed.source, seed.example, { now: NOW });
    expect(Buffer.from(first.ofd).equals(Buffer.from(again.ofd))).toBe(true);
    const file = openOfd(first.ofd);
    expect(file.document.physicalBox).toEqual([0, 0, 210, 297]);
    expect([...file.document.fonts.values()].map((f) => [f.fontName, f.familyName, f.file])).toEqual([
      ['NotoSansHans-Regular', 'Noto Sans S Chinese', undefined],
      ['NotoSansHans-Bold', 'Noto Sans S Chinese', undefined],
    ]);
    const embedded = await renderTemplateOfd(seed.source, seed.example, { now: NOW, embedFonts: true });
    const names = readPackage(embedded.ofd, { ...readPackage(first.ofd).limits }).names;
    expect(names).toEqual(
      expect.arrayContaining(['Doc_0/Res/NotoSansHans-Regular.otf', 'Doc_0/Res/NotoSansHans-Bold.otf']),
    );
    expect(structure(embedded.ofd).problems).toEqual([]);
    // A page drawn from the written OFD, for a look by eye.
    const { png } = await renderPagePng(file, 0);
    tmp.file('page.png', png);
    expect(png.length).toBeGreaterThan(10_000);
  });

  it('abbreviates runs of equal glyph advances as g N v, and the reader expands them back', () => {
    expect(encodeDeltas([4.2333, 4.2333, 4.2333, 4.2333, 2.1, 2.1, 3])).toBe('g 4 4.233 2.1 2.1 3');
    expect(encodeDeltas([])).toBe('');
  });
});
