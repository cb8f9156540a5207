import type { Readable } from 'node:stream';
import { AppError } from '../server/errors.js';

/**
 * Content-addressed storage for files (PDFs, seal images, photos of stamped pages):
 * bytes go in, their SHA-256 comes out, and the same bytes are stored once. The store
 * knows nothing of groups; the `blobs` table (blob.service.ts) says which group owns
 * which hash, and every read by a request goes through it.
 */
export interface BlobStore {
  readonly kind: 'dir';
  /** The largest blob `put` accepts. */
  readonly maxBytes: number;
  /** Stores the bytes (a no-op when already stored); throws `blob_too_large` above `maxBytes`. */
  put(bytes: Uint8Array): Promise<{ sha256: string; size: number }>;
  /** The bytes, checked against their hash; throws `BlobMissingError` when absent, `BlobCorruptError` when altered. */
  get(sha256: string): Promise<Buffer>;
  /** A stream of the bytes (not re-hashed: for serving large files). */
  stream(sha256: string): Promise<Readable>;
  has(sha256: string): Promise<boolean>;
  /** The stored size, or undefined when absent. */
  size(sha256: string): Promise<number | undefined>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function isSha256Hex(value: string): boolean {
  return SHA256_HEX.test(value);
}

/** Refuses anything but 64 lower-case hex digits before it can reach a file name. */
export function assertSha256Hex(value: string): void {
  if (!SHA256_HEX.test(value))
    throw new Error(`not a SHA-256 in lower-case hex: ${JSON.stringify(value.slice(0, 80))}`);
}

export class BlobMissingError extends Error {
  constructor(readonly sha256: string) {
    super(`blob ${sha256} is not in the store`);
    this.name = 'BlobMissingError';
  }
}

/** The stored bytes no longer match their hash: the disk or someone altered them. */
export class BlobCorruptError extends Error {
  constructor(readonly sha256: string) {
    super(`blob ${sha256} does not match its hash`);
    this.name = 'BlobCorruptError';
  }
}

export function blobTooLarge(size: number, maxBytes: number): AppError {
  return new AppError('blob_too_large', `The file has ${size} bytes; at most ${maxBytes} are accepted.`, {
    size,
    maxBytes,
  });
}
