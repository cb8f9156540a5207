// The text of a page as a reader would copy it: each TextObject's codes in document order, one
// line per TextObject (OFD has no notion of words or lines; producers usually put one run of text
// in each object). Keyword placement searches this.
import type { Box, Matrix, PageObject } from './model.js';
import type { OfdFile } from './reader.js';

function collect(objects: PageObject[], into: string[]): void {
  for (const object of objects) {
    if (object.kind === 'text') into.push(object.codes.map((c) => c.text).join(''));
    else if (object.kind === 'block') collect(object.objects, into);
  }
}

/** The text of page `index` (templates included, before the page's own), one TextObject a line. */
export function extractPageText(file: OfdFile, index: number): string {
  const page = file.page(index);
  const lines: string[] = [];
  for (const tpl of page.templates.filter((t) => t.zOrder === 'Background'))
    for (const layer of tpl.content.layers) collect(layer.objects, lines);
  for (const layer of page.content.layers) collect(layer.objects, lines);
  for (const tpl of page.templates.filter((t) => t.zOrder === 'Foreground'))
    for (const layer of tpl.content.layers) collect(layer.objects, lines);
  return lines.join('\n');
}

/** The text of every page. */
export function extractText(file: OfdFile): string[] {
  return file.document.pages.map((_, i) => extractPageText(file, i));
}

export interface KeywordHit {
  /** 0-based page index. */
  page: number;
  /** Where the keyword's glyphs are on the page, mm (x y width height): for placing a seal over it. */
  box: Box;
}

const apply = (m: Matrix, x: number, y: number): [number, number] => [
  m[0] * x + m[2] * y + m[4],
  m[1] * x + m[3] * y + m[5],
];

/**
 * Every place `keyword` is written on the pages (templates included), within one TextObject, as
 * glyph boxes: from the first glyph's origin to the last one's plus an em, from an ascent of 0.88
 * em above the baseline to 0.12 below it (the CJK ideographic box), through the object's CTM.
 */
export function findKeyword(file: OfdFile, keyword: string, limit = 100): KeywordHit[] {
  const wanted = Array.from(keyword);
  if (wanted.length === 0) return [];
  const hits: KeywordHit[] = [];
  const search = (objects: PageObject[], page: number) => {
    for (const object of objects) {
      if (hits.length >= limit) return;
      if (object.kind === 'block') search(object.objects, page);
      if (object.kind !== 'text') continue;
      const glyphs: Array<{ char: string; x: number; y: number }> = [];
      for (const code of object.codes) {
        let x = code.x;
        let y = code.y;
        Array.from(code.text).forEach((char, i) => {
          if (i > 0) {
            x += code.deltaX[i - 1] ?? code.deltaX.at(-1) ?? object.size;
            y += code.deltaY[i - 1] ?? 0;
          }
          glyphs.push({ char, x, y });
        });
      }
      for (let i = 0; i + wanted.length <= glyphs.length && hits.length < limit; i++) {
        if (!wanted.every((c, k) => glyphs[i + k]!.char === c)) continue;
        const run = glyphs.slice(i, i + wanted.length);
        const ctm: Matrix = object.ctm ?? [1, 0, 0, 1, 0, 0];
        const corners = run.flatMap((g) => [
          apply(ctm, g.x, g.y - 0.88 * object.size),
          apply(ctm, g.x + object.size, g.y + 0.12 * object.size),
          apply(ctm, g.x, g.y + 0.12 * object.size),
          apply(ctm, g.x + object.size, g.y - 0.88 * object.size),
        ]);
        const xs = corners.map((c) => c[0]);
        const ys = corners.map((c) => c[1]);
        const [bx, by] = object.boundary;
        const left = Math.min(...xs);
        const top = Math.min(...ys);
        hits.push({ page, box: [bx + left, by + top, Math.max(...xs) - left, Math.max(...ys) - top] });
      }
    }
  };
  file.document.pages.forEach((_, index) => {
    const page = file.page(index);
    for (const tpl of page.templates) for (const layer of tpl.content.layers) search(layer.objects, index);
    for (const layer of page.content.layers) search(layer.objects, index);
  });
  return hits;
}
