// Checks an uploaded seal image before it is stored: it is what it claims to be, small enough,
// of a sensible size, transparent around the impression, and (SVG) free of anything active.
import { PNG } from 'pngjs';
import { assertMediaType, findSvgHazards } from '../blobs/sniff.js';
import { AppError } from '../server/errors.js';
import { resvg } from './resvg.js';

export const SEAL_IMAGE_TYPES = ['image/png', 'image/svg+xml'] as const;
export type SealImageType = (typeof SEAL_IMAGE_TYPES)[number];

export const SEAL_IMAGE_LIMITS = {
  /** Bytes of one file: a 4096 px seal PNG is far smaller. */
  maxBytes: 2 * 1024 * 1024,
  /** Pixels on each side of a PNG: below this a seal prints blurred, above it is only weight. */
  minPx: 64,
  maxPx: 4096,
  /** Share of a PNG's pixels that must be (partly) transparent: a seal is ink on nothing. */
  minTransparentShare: 0.05,
  /** Elements and `<use>` references of an SVG: enough for any seal, too few for a rendering bomb. */
  maxSvgElements: 20_000,
  maxSvgUses: 200,
} as const;

export interface InspectedSealImage {
  mediaType: SealImageType;
  /** Pixels (PNG), or CSS pixels of the SVG's own size. */
  width: number;
  height: number;
}

export function isSealImageType(mediaType: string): mediaType is SealImageType {
  return (SEAL_IMAGE_TYPES as readonly string[]).includes(mediaType);
}

const invalid = (message: string) => new AppError('image_invalid', message);

interface PngHeader {
  width: number;
  height: number;
  colorType: number;
  hasTransparencyChunk: boolean;
}

/** IHDR and whether a tRNS chunk comes before the image data (PNG spec §11.2.2, §11.3.2.1). */
function readPngHeader(bytes: Buffer): PngHeader {
  if (bytes.length < 33 || bytes.readUInt32BE(8) !== 13 || bytes.toString('latin1', 12, 16) !== 'IHDR')
    throw invalid('The PNG is truncated or does not start with its IHDR header.');
  const header = {
    width: bytes.readUInt32BE(16),
    height: bytes.readUInt32BE(20),
    colorType: bytes[25]!,
    hasTransparencyChunk: false,
  };
  let at = 33;
  while (at + 8 <= bytes.length) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    if (type === 'tRNS') header.hasTransparencyChunk = true;
    if (type === 'IDAT' || type === 'IEND') break;
    at += 12 + length;
  }
  return header;
}

function inspectPng(bytes: Buffer): InspectedSealImage {
  const { width, height, colorType, hasTransparencyChunk } = readPngHeader(bytes);
  const { minPx, maxPx } = SEAL_IMAGE_LIMITS;
  // Checked before decoding: a small file must not make the server unpack a gigapixel image.
  if (width < minPx || height < minPx || width > maxPx || height > maxPx) {
    throw invalid(`The image is ${width}×${height} px; a seal image must be ${minPx} to ${maxPx} px on each side.`);
  }
  // Colour types 4 and 6 carry alpha; 0, 2 and 3 only with a tRNS chunk.
  if (colorType !== 4 && colorType !== 6 && !hasTransparencyChunk) {
    throw invalid(
      'The PNG has no transparency (no alpha channel): on a document it would cover the text under it with a white box. Export the seal with a transparent background.',
    );
  }
  let decoded: PNG;
  try {
    decoded = PNG.sync.read(bytes);
  } catch (error) {
    throw invalid(`The PNG cannot be decoded: ${error instanceof Error ? error.message : String(error)}.`);
  }
  let transparent = 0;
  for (let i = 3; i < decoded.data.length; i += 4) if (decoded.data[i]! < 255) transparent++;
  const share = transparent / (width * height);
  if (share < SEAL_IMAGE_LIMITS.minTransparentShare) {
    throw invalid(
      `Only ${(share * 100).toFixed(1)}% of the PNG is transparent: the background must be transparent around the impression, or it covers the text under it. Export the seal with a transparent background.`,
    );
  }
  return { mediaType: 'image/png', width, height };
}

function inspectSvg(bytes: Buffer): InspectedSealImage {
  const hazards = findSvgHazards(bytes);
  if (hazards.length) {
    throw new AppError(
      'image_unsafe',
      `The SVG is refused because it contains ${hazards.join(', ')}. A seal image must be plain shapes and text.`,
      { hazards },
    );
  }
  const text = bytes.toString('utf8');
  const elements = (text.match(/<[a-zA-Z]/g) ?? []).length;
  const uses = (text.match(/<use[\s/>]/g) ?? []).length;
  if (elements > SEAL_IMAGE_LIMITS.maxSvgElements || uses > SEAL_IMAGE_LIMITS.maxSvgUses) {
    throw invalid(
      `The SVG is too complex for a seal image (${elements} elements, ${uses} <use> references; at most ${SEAL_IMAGE_LIMITS.maxSvgElements} and ${SEAL_IMAGE_LIMITS.maxSvgUses}).`,
    );
  }
  const { Resvg } = resvg();
  let size: { width: number; height: number };
  try {
    // Parsed without fonts: only its structure and size matter here.
    const tree = new Resvg(bytes, { font: { loadSystemFonts: false }, logLevel: 'off' });
    size = { width: tree.width, height: tree.height };
  } catch (error) {
    throw invalid(`The SVG cannot be read: ${error instanceof Error ? error.message : String(error)}.`);
  }
  if (!(size.width > 0 && size.height > 0))
    throw invalid('The SVG has no size: give the root element a viewBox, or a width and a height.');
  return { mediaType: 'image/svg+xml', width: Math.round(size.width), height: Math.round(size.height) };
}

/**
 * Throws unless `bytes` make a usable seal image: `image_too_large` (413) above 2 MB,
 * `file_type_mismatch` when the content is not a PNG or SVG or not the `claimed` type,
 * `image_invalid` for a PNG of the wrong size, without transparency or undecodable, or an
 * unreadable SVG, and `image_unsafe` for an SVG with scripts, handlers or external references.
 */
export function inspectSealImage(bytes: Buffer, claimed?: string): InspectedSealImage {
  if (bytes.length > SEAL_IMAGE_LIMITS.maxBytes) {
    throw new AppError(
      'image_too_large',
      `The seal image has ${bytes.length} bytes; at most ${SEAL_IMAGE_LIMITS.maxBytes} (2 MB) are accepted.`,
      { size: bytes.length, maxBytes: SEAL_IMAGE_LIMITS.maxBytes },
    );
  }
  if (bytes.length === 0) throw invalid('The seal image is empty.');
  const found = assertMediaType(bytes, { accepted: SEAL_IMAGE_TYPES, claimed });
  return found === 'image/png' ? inspectPng(bytes) : inspectSvg(bytes);
}
