import { AppError } from '../server/errors.js';

/** The file types Sigil recognises by their content. */
export type SniffedType = 'image/png' | 'image/jpeg' | 'application/pdf' | 'image/svg+xml';

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG = [0xff, 0xd8, 0xff];
const PDF = [0x25, 0x50, 0x44, 0x46, 0x2d]; // "%PDF-"

function startsWith(bytes: Uint8Array, signature: number[], offset = 0): boolean {
  if (bytes.byteLength < offset + signature.length) return false;
  return signature.every((b, i) => bytes[offset + i] === b);
}

/** How much of a file is read to recognise SVG: the root element comes after at most a prolog. */
const SVG_HEAD_BYTES = 4096;

/**
 * SVG is text: UTF-8 (an optional byte-order mark), then an optional XML declaration,
 * comments and doctype, then the root element `<svg`. Binary content (a NUL byte) is not SVG.
 */
function isSvg(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, SVG_HEAD_BYTES);
  if (head.includes(0)) return false;
  let text = new TextDecoder('utf-8', { fatal: false }).decode(head);
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  const prolog = /^(?:\s+|<\?xml[^>]*\?>|<!--[\s\S]*?-->|<!DOCTYPE\s+svg[^>[]*(?:\[[\s\S]*?\])?\s*>)*/i;
  const rest = text.replace(prolog, '');
  return /^<svg(?:[\s>/]|$)/.test(rest);
}

/**
 * The type of a file by its leading bytes ("magic numbers"), never by its name or the
 * type a client claims; undefined when it is none Sigil recognises. A PDF must begin with
 * `%PDF-` at byte 0: readers that tolerate junk before it are exactly what polyglot files exploit.
 */
export function sniffMediaType(bytes: Uint8Array): SniffedType | undefined {
  if (startsWith(bytes, PNG)) return 'image/png';
  if (startsWith(bytes, JPEG)) return 'image/jpeg';
  if (startsWith(bytes, PDF)) return 'application/pdf';
  if (isSvg(bytes)) return 'image/svg+xml';
  return undefined;
}

/** Normalises a claimed media type: lower case, without parameters; `image/jpg` is read as `image/jpeg`. */
export function normaliseMediaType(claimed: string): string {
  const type = claimed.split(';')[0]!.trim().toLowerCase();
  return type === 'image/jpg' || type === 'image/pjpeg' ? 'image/jpeg' : type;
}

/**
 * Throws `file_type_mismatch` unless the content is of one of the `accepted` types and,
 * when the client claimed a type, of that type. Returns the type found.
 */
export function assertMediaType(
  bytes: Uint8Array,
  options: { accepted: readonly SniffedType[]; claimed?: string | undefined; field?: string },
): SniffedType {
  const found = sniffMediaType(bytes);
  const field = options.field ?? 'file';
  const fail = (message: string) =>
    new AppError('file_type_mismatch', message, { errors: [{ field, message }], ...(found ? { found } : {}) });
  if (options.claimed !== undefined) {
    const claimed = normaliseMediaType(options.claimed);
    if (found !== claimed)
      throw fail(`The file claims to be ${claimed} but its content is ${found ?? 'not a type Sigil recognises'}.`);
  }
  if (!found || !options.accepted.includes(found))
    throw fail(`Only ${options.accepted.join(', ')} are accepted here; this file is ${found ?? 'none of them'}.`);
  return found;
}

/**
 * What makes an SVG unsafe to show in a browser: scripts, event handlers, embedded HTML,
 * and references that load something from elsewhere. Returns what was found (empty: none).
 * A caller that stores SVG seal images refuses one with any hazard rather than cleaning it.
 */
export function findSvgHazards(bytes: Uint8Array): string[] {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  const hazards: string[] = [];
  if (/<script[\s>/]/i.test(text)) hazards.push('a <script> element');
  if (/<foreignObject[\s>/]/i.test(text)) hazards.push('a <foreignObject> element');
  if (/\son[a-z]+\s*=/i.test(text)) hazards.push('an event-handler attribute (on…=)');
  if (/javascript:/i.test(text)) hazards.push('a javascript: URL');
  if (/(?:xlink:)?href\s*=\s*["']\s*(?!#|data:image\/)/i.test(text)) hazards.push('a reference to another document');
  if (/<!ENTITY/i.test(text)) hazards.push('an XML entity declaration');
  if (/@import|url\(\s*["']?\s*(?!#|data:image\/)/i.test(text)) hazards.push('a style that loads from elsewhere');
  return hazards;
}
