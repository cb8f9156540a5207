import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, fsync, open, readFileSync, statSync, writeSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { assertSha256Hex, BlobCorruptError, BlobMissingError, blobTooLarge, type BlobStore } from './blob-store.js';

function isMissing(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ENOENT';
}

/** Blobs up to this size are read in one call on the calling thread (see `DirBlobStore`). */
const READ_INLINE_MAX = 4 * 1024 * 1024;

// The callback forms give a plain descriptor, closed here and only here (a FileHandle would also
// close it when collected).
const openFd = promisify(open);
const fsyncFd = promisify(fsync);

/**
 * Blobs as files under one directory, `<root>/ab/cd/<sha256>` (two levels of fan-out keep
 * directories small). A blob is written to `<root>/tmp/` and renamed into place, so a
 * reader never sees half a file and a crash leaves only a stray temp file; identical
 * content written twice at once renames the same bytes onto the same name, which is harmless.
 *
 * What may wait for the disk or its journal goes to libuv's thread pool: creating, syncing and
 * renaming a file, making a directory, reading a blob over 4 MB. What the page cache answers is
 * done in place: stat, a small read, writing into a file just opened, closing it. Each hand-off
 * to the pool and back cost the event loop more than such a call itself (bench contracts, CPU
 * profile: the two writes and two reads of a contract took a fifth of the loop); a write now hands
 * off three times instead of six, a read not at all.
 */
export class DirBlobStore implements BlobStore {
  readonly kind = 'dir' as const;
  readonly root: string;
  readonly maxBytes: number;

  /**
   * Directories this store has made (or found) already: every write made two `mkdir -p` calls,
   * which cost more of the event loop than the write itself. Should one vanish meanwhile, the
   * write that misses it makes it again (see `put`).
   */
  private readonly dirs = new Set<string>();

  constructor(options: { root: string; maxBytes: number }) {
    this.root = options.root;
    this.maxBytes = options.maxBytes;
  }

  private async ensureDir(dir: string): Promise<void> {
    if (this.dirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    // At most 65,536 fan-out directories and tmp.
    this.dirs.add(dir);
  }

  pathOf(sha256: string): string {
    assertSha256Hex(sha256);
    return join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  async put(bytes: Uint8Array): Promise<{ sha256: string; size: number }> {
    if (bytes.byteLength > this.maxBytes) throw blobTooLarge(bytes.byteLength, this.maxBytes);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const target = this.pathOf(sha256);
    if (await this.has(sha256)) return { sha256, size: bytes.byteLength };
    try {
      await this.write(bytes, sha256, target);
    } catch (error) {
      if (!isMissing(error)) throw error;
      // A directory made earlier is gone (removed by hand): made again, once.
      this.dirs.clear();
      await this.write(bytes, sha256, target);
    }
    return { sha256, size: bytes.byteLength };
  }

  private async write(bytes: Uint8Array, sha256: string, target: string): Promise<void> {
    const tmpDir = join(this.root, 'tmp');
    await this.ensureDir(tmpDir);
    await this.ensureDir(dirname(target));
    const tmp = join(tmpDir, `${sha256}.${randomBytes(6).toString('hex')}`);
    try {
      const fd = await openFd(tmp, 'wx', 0o640);
      try {
        for (let written = 0; written < bytes.byteLength;)
          written += writeSync(fd, bytes, written, bytes.byteLength - written);
        // On disk before it gets its name: after a crash a blob is whole or absent.
        await fsyncFd(fd);
      } finally {
        closeSync(fd);
      }
      await rename(tmp, target);
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
  }

  async get(sha256: string): Promise<Buffer> {
    let bytes: Buffer;
    try {
      const path = this.pathOf(sha256);
      bytes = statSync(path).size <= READ_INLINE_MAX ? readFileSync(path) : await readFile(path);
    } catch (error) {
      if (isMissing(error)) throw new BlobMissingError(sha256);
      throw error;
    }
    if (createHash('sha256').update(bytes).digest('hex') !== sha256) throw new BlobCorruptError(sha256);
    return bytes;
  }

  async stream(sha256: string): Promise<Readable> {
    const path = this.pathOf(sha256);
    if (!(await this.has(sha256))) throw new BlobMissingError(sha256);
    return createReadStream(path);
  }

  async has(sha256: string): Promise<boolean> {
    return (await this.size(sha256)) !== undefined;
  }

  async size(sha256: string): Promise<number | undefined> {
    try {
      return statSync(this.pathOf(sha256)).size;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }
}
