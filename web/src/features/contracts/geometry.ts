import type { FieldType, PageBox } from '../../api';

/**
 * Where a field sits, in the two spaces it lives in: the API's rect [x, y, width, height] in PDF
 * points from the bottom-left corner of the unrotated page, and the page as a person sees it on
 * screen (its /Rotate applied, y downwards), as fractions of the shown page's width and height so
 * that the same numbers hold at any zoom. Pure functions, no DOM: web/test checks them.
 */

export type Rect = [number, number, number, number];

/** A spot on the shown page: left, top, width, height as fractions (0–1) of the shown page. */
export interface ScreenBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** PDF points per millimetre (72 per inch). */
export const PT_PER_MM = 72 / 25.4;

const turned = (rotate: number) => rotate === 90 || rotate === 270;

/** The page as shown: width and height in points once its /Rotate is applied. */
export function shownSize(page: PageBox): { width: number; height: number } {
  const [, , w, h] = page.box;
  return turned(page.rotate) ? { width: h, height: w } : { width: w, height: h };
}

/** A point of the unrotated page (u, v from the box's bottom-left, in points) → the shown page (x, y from its top-left, in points). */
function toShown(page: PageBox, u: number, v: number): [number, number] {
  const [, , w, h] = page.box;
  switch (page.rotate) {
    case 90:
      return [v, u];
    case 180:
      return [w - u, v];
    case 270:
      return [h - v, w - u];
    default:
      return [u, h - v];
  }
}

/** The inverse of toShown. */
function fromShown(page: PageBox, x: number, y: number): [number, number] {
  const [, , w, h] = page.box;
  switch (page.rotate) {
    case 90:
      return [y, x];
    case 180:
      return [w - x, y];
    case 270:
      return [w - y, h - x];
    default:
      return [x, h - y];
  }
}

/** The API's rect → where it shows on the page. */
export function rectToScreen(page: PageBox, rect: Rect): ScreenBox {
  const [bx, by] = page.box;
  const [x, y, w, h] = rect;
  const a = toShown(page, x - bx, y - by);
  const b = toShown(page, x - bx + w, y - by + h);
  const shown = shownSize(page);
  const left = Math.min(a[0], b[0]);
  const top = Math.min(a[1], b[1]);
  return {
    left: left / shown.width,
    top: top / shown.height,
    width: Math.abs(a[0] - b[0]) / shown.width,
    height: Math.abs(a[1] - b[1]) / shown.height,
  };
}

const round = (n: number) => Math.round(n * 100) / 100;

/** Where a spot on the shown page lies in the API's terms, kept on the page and rounded to 0.01 pt. */
export function screenToRect(page: PageBox, spot: ScreenBox): Rect {
  const shown = shownSize(page);
  const [bx, by, bw, bh] = page.box;
  const a = fromShown(page, spot.left * shown.width, spot.top * shown.height);
  const b = fromShown(page, (spot.left + spot.width) * shown.width, (spot.top + spot.height) * shown.height);
  const u = Math.min(a[0], b[0]);
  const v = Math.min(a[1], b[1]);
  return clampRect(page, [bx + u, by + v, Math.abs(a[0] - b[0]), Math.abs(a[1] - b[1])], bw, bh);
}

/** Moves (and if need be shrinks) a rect so that it lies on the page, as the server requires. */
function clampRect(page: PageBox, rect: Rect, bw: number, bh: number): Rect {
  const [bx, by] = page.box;
  const w = Math.min(Math.max(rect[2], 1), bw);
  const h = Math.min(Math.max(rect[3], 1), bh);
  // Rounded to hundredths, and then checked again: rounding must not push an edge past the page.
  const [x, fw] = fit(rect[0], w, bx, bw);
  const [y, fh] = fit(rect[1], h, by, bh);
  return [x, y, fw, fh];
}

const floor2 = (n: number) => Math.floor(n * 100 + 1e-9) / 100;
const ceil2 = (n: number) => Math.ceil(n * 100 - 1e-9) / 100;

/** A start and a length on one axis, inside [lo, lo + span], in hundredths. */
function fit(start: number, length: number, lo: number, span: number): [number, number] {
  let at = round(Math.min(Math.max(start, lo), lo + span - length));
  if (at < lo) at = ceil2(lo);
  return [at, Math.min(floor2(length), floor2(lo + span - at))];
}

/** Keeps a spot on the shown page (0–1 both ways), shrinking it only if it is larger than the page. */
export function keepOnPage(spot: ScreenBox): ScreenBox {
  const width = Math.min(Math.max(spot.width, 0.01), 1);
  const height = Math.min(Math.max(spot.height, 0.01), 1);
  return {
    left: Math.min(Math.max(spot.left, 0), 1 - width),
    top: Math.min(Math.max(spot.top, 0), 1 - height),
    width,
    height,
  };
}

/**
 * A field's size when dropped, in points (width, height): a company seal is 40–42 mm across,
 * a legal representative's square seal about 20 mm, a signature a short line.
 */
export function defaultSize(type: FieldType): [number, number] {
  switch (type) {
    case 'company_seal':
      return [42 * PT_PER_MM, 42 * PT_PER_MM];
    case 'legal_rep_seal':
      return [20 * PT_PER_MM, 20 * PT_PER_MM];
    case 'signature':
      return [120, 48];
    case 'date':
      return [96, 22];
    case 'text':
      return [150, 22];
    case 'checkbox':
      return [16, 16];
    case 'cross_page_seal':
      return [42 * PT_PER_MM, 42 * PT_PER_MM];
  }
}

/** A field of `type` centred on a point of the shown page (fractions), kept on the page. */
export function dropRect(page: PageBox, type: FieldType, at: { x: number; y: number }): Rect {
  const shown = shownSize(page);
  const [w, h] = defaultSize(type);
  // Turned pages show the field turned too: its shown width is its height in points.
  const [sw, sh] = turned(page.rotate) ? [h / shown.width, w / shown.height] : [w / shown.width, h / shown.height];
  const spot = keepOnPage({ left: at.x - sw / 2, top: at.y - sh / 2, width: sw, height: sh });
  return screenToRect(page, spot);
}
