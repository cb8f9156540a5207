// The messages between the PDF signing pool and its workers. Structured cloning turns a Buffer
// into a plain Uint8Array, so each side revives what it receives before the engine sees it
// (`Buffer.isBuffer` tells a PNG from a prepared image, and DER helpers expect Buffers).
import { SigningError, type SigningErrorCode } from './errors.js';
import type { SignatureAlgorithm, KeyType } from './signer.js';

export type CallKind = 'sign' | 'timestamp' | 'crls';

export interface WireError {
  message: string;
  code?: SigningErrorCode;
  details?: SigningError['details'];
}

/** What a worker needs to sign one PDF: everything but the key, the TSA and the CRLs, which it asks for. */
export interface SignJob {
  type: 'sign';
  id: number;
  pdf: Uint8Array;
  signer: {
    keyType: KeyType;
    algorithm: SignatureAlgorithm;
    publicKey: Uint8Array;
    certificate: Uint8Array;
    chain: Uint8Array[];
  };
  /** The timestamper's name, when there is one. */
  timestamper: string | null;
  revocation: boolean;
  /** The remaining options of signPdf: plain data (strings, dates, placements), prepared images as `ImageRef`s. */
  options: unknown;
  /** Prepared images this worker has not been sent yet, by reference. */
  images: Record<number, unknown>;
  /** Forget the images sent before (the pool stopped counting them). */
  resetImages: boolean;
}

/** A prepared image sent to this worker before: a seal's impression goes once, not with every document. */
export interface ImageRef {
  imageRef: number;
}

type WithImages<I> = {
  appearance?: { image: I };
  crossPage?: { image: I };
  stamps?: Array<{ image: I }>;
};

/** The options with each image of the appearance, the cross-page seal and the stamps replaced by `map`'s answer. */
export function mapImages<T extends WithImages<unknown>>(options: T, map: (image: unknown) => unknown): T {
  return {
    ...options,
    ...(options.appearance ? { appearance: { ...options.appearance, image: map(options.appearance.image) } } : {}),
    ...(options.crossPage ? { crossPage: { ...options.crossPage, image: map(options.crossPage.image) } } : {}),
    ...(options.stamps ? { stamps: options.stamps.map((s) => ({ ...s, image: map(s.image) })) } : {}),
  };
}

export type ToWorker = SignJob | { type: 'answer'; call: number; value?: unknown; error?: WireError };

export type ToMain =
  | { type: 'call'; job: number; call: number; kind: CallKind; args: unknown[] }
  | { type: 'done'; job: number; value?: Uint8Array; error?: WireError };

export function describeError(error: unknown): WireError {
  if (error instanceof SigningError) return { message: error.message, code: error.code, details: error.details };
  return { message: error instanceof Error ? error.message || error.name : String(error) };
}

/** The bytes as a Buffer, without copying them. */
export function asBuffer(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

/** Every Uint8Array in `value` (deeply, through arrays and plain objects) as a Buffer over the same bytes. */
export function revive<T>(value: T): T {
  if (value instanceof Uint8Array)
    return (Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)) as T;
  if (Array.isArray(value)) return value.map(revive) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[key] = revive(inner);
    return out as T;
  }
  return value;
}
