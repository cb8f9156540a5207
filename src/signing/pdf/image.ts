// Seal and handwritten-signature images: a PNG becomes an image XObject, its alpha channel a soft
// mask (ISO 32000-1 §11.6.5.3) so the red seal sits over the text instead of a white box.
import { deflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { SigningError } from '../errors.js';
import { PdfDict, PdfRef, PdfStream, name } from './objects.js';
import type { IncrementalUpdate } from './writer.js';

export interface PreparedImage {
  width: number;
  height: number;
  gray: boolean;
  /** Deflated samples (RGB or gray, 8 bits). */
  samples: Buffer;
  /** Deflated alpha samples, or null when the image is opaque. */
  alpha: Buffer | null;
}

const MAX_PNG_BYTES = 8 * 1024 * 1024;
const MAX_PIXELS = 4096 * 4096;

/** Decodes a PNG once; the result can be reused for every document the seal is applied to. */
export function prepareImage(png: Buffer): PreparedImage {
  if (png.length > MAX_PNG_BYTES)
    throw new SigningError('image_invalid', `The image is larger than ${MAX_PNG_BYTES / 1024 / 1024} MB.`);
  if (png.length < 8 || png.readUInt32BE(0) !== 0x89504e47)
    throw new SigningError('image_invalid', 'The image is not a PNG.');
  // Check the declared size before decoding, so a tiny file cannot claim a gigapixel image.
  if (png.length >= 24 && png.readUInt32BE(16) * png.readUInt32BE(20) > MAX_PIXELS)
    throw new SigningError('image_invalid', 'The image has more than 4096×4096 pixels.');
  let decoded: PNG;
  try {
    decoded = PNG.sync.read(png);
  } catch (error) {
    throw new SigningError(
      'image_invalid',
      `The PNG cannot be decoded: ${error instanceof Error ? error.message : String(error)}.`,
    );
  }
  const { width, height, data } = decoded;
  if (width === 0 || height === 0) throw new SigningError('image_invalid', 'The image is empty.');
  const pixels = width * height;
  let gray = true;
  let opaque = true;
  for (let i = 0; i < pixels; i++) {
    const r = data[i * 4]!;
    if (r !== data[i * 4 + 1] || r !== data[i * 4 + 2]) gray = false;
    if (data[i * 4 + 3] !== 255) opaque = false;
    if (!gray && !opaque) break;
  }
  const samples = Buffer.alloc(pixels * (gray ? 1 : 3));
  const alpha = opaque ? null : Buffer.alloc(pixels);
  for (let i = 0; i < pixels; i++) {
    if (gray) samples[i] = data[i * 4]!;
    else {
      samples[i * 3] = data[i * 4]!;
      samples[i * 3 + 1] = data[i * 4 + 1]!;
      samples[i * 3 + 2] = data[i * 4 + 2]!;
    }
    if (alpha) alpha[i] = data[i * 4 + 3]!;
  }
  return { width, height, gray, samples: deflateSync(samples), alpha: alpha ? deflateSync(alpha) : null };
}

/** Adds the image (and its soft mask) to the update; returns the image XObject. */
export function addImage(update: IncrementalUpdate, image: PreparedImage): PdfRef {
  const base = {
    Type: name('XObject'),
    Subtype: name('Image'),
    Width: image.width,
    Height: image.height,
    BitsPerComponent: 8,
    Filter: name('FlateDecode'),
  };
  const dict = PdfDict.of({ ...base, ColorSpace: name(image.gray ? 'DeviceGray' : 'DeviceRGB') });
  if (image.alpha)
    dict.set('SMask', update.add(new PdfStream(PdfDict.of({ ...base, ColorSpace: name('DeviceGray') }), image.alpha)));
  return update.add(new PdfStream(dict, image.samples));
}
