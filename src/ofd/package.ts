// An OFD file is a zip package (GB/T 33190-2016 §7.4). Reading one measures before it trusts:
// the central directory's counts and sizes are checked against the limits before anything is
// inflated, each entry is inflated into a buffer of its declared size only (a stream that claims
// less than it holds cannot grow it), and its CRC-32 is checked afterwards, so a lie about a size
// is caught too. Entry names are normalised once here; every later lookup goes through `resolve`,
// which refuses a reference that climbs out of the package.
import { crc32 } from 'node:zlib';
import { unzipSync, zipSync, type Zippable } from 'fflate';
import { OfdError } from './errors.js';

export interface OfdLimits {
  /** Bytes of the zip file itself. */
  maxPackageBytes: number;
  /** Entries in the central directory (directories included). */
  maxEntries: number;
  /** Uncompressed bytes of one entry. */
  maxEntryBytes: number;
  /** Uncompressed bytes of all entries together. */
  maxTotalBytes: number;
  /** Uncompressed ÷ compressed size of an entry larger than `ratioFloorBytes`. Deflate of ordinary XML stays far below. */
  maxCompressionRatio: number;
  ratioFloorBytes: number;
  /** Bytes of one XML file, nesting depth of its elements. */
  maxXmlBytes: number;
  maxXmlDepth: number;
  /** Pages of a document, graphic objects on one page, signatures in a document, references in one signature. */
  maxPages: number;
  maxObjectsPerPage: number;
  maxSignatures: number;
  maxReferences: number;
}

export const DEFAULT_OFD_LIMITS: OfdLimits = {
  maxPackageBytes: 256 * 1024 * 1024,
  maxEntries: 10_000,
  maxEntryBytes: 64 * 1024 * 1024,
  maxTotalBytes: 256 * 1024 * 1024,
  maxCompressionRatio: 200,
  ratioFloorBytes: 1024 * 1024,
  maxXmlBytes: 16 * 1024 * 1024,
  maxXmlDepth: 128,
  maxPages: 5_000,
  maxObjectsPerPage: 200_000,
  maxSignatures: 500,
  maxReferences: 20_000,
};

export function ofdLimits(overrides: Partial<OfdLimits> = {}): OfdLimits {
  return { ...DEFAULT_OFD_LIMITS, ...overrides };
}

/** The files of a package by their normalised path (no leading slash, `/` separators). Directories are not kept. */
export class OfdPackage {
  private readonly lower = new Map<string, string[]>();

  constructor(
    readonly files: ReadonlyMap<string, Uint8Array>,
    readonly limits: OfdLimits,
  ) {
    for (const name of files.keys()) {
      const key = name.toLowerCase();
      this.lower.set(key, [...(this.lower.get(key) ?? []), name]);
    }
  }

  get names(): string[] {
    return [...this.files.keys()];
  }

  has(path: string): boolean {
    return this.files.has(path);
  }

  /**
   * The actual name of `path` in the package: itself, or the one entry that differs only in case
   * (producers on Windows write `TPLS/…` for `Tpls/…`; ofdrw's v4signed.ofd does). Undefined when
   * there is none, or several that differ only in case.
   */
  find(path: string): string | undefined {
    if (this.files.has(path)) return path;
    const candidates = this.lower.get(path.toLowerCase());
    return candidates?.length === 1 ? candidates[0] : undefined;
  }

  /** The bytes of `path` (matched as `find` does), or an `ofd_malformed` error naming what referred to it. */
  read(path: string, referredBy?: string): Uint8Array {
    const name = this.find(path);
    const bytes = name === undefined ? undefined : this.files.get(name);
    if (!bytes)
      throw new OfdError(
        'ofd_malformed',
        referredBy ? `refers to /${path}, which is not in the package` : `/${path} is not in the package`,
        referredBy,
      );
    return bytes;
  }
}

const DRIVE = /^[a-zA-Z]:/;

/**
 * A zip entry's name as a package path, or an error: no backslash, no drive letter, no absolute
 * path, no `.` or `..` segment, no empty segment, no control character. Names ending in `/` are
 * directories (undefined is returned for them).
 */
export function entryPath(name: string): string | undefined {
  const refuse = (why: string) => new OfdError('ofd_path_invalid', `zip entry ${JSON.stringify(name)} ${why}`);
  if (/[\u0000-\u001f\u007f]/.test(name)) throw refuse('contains a control character');
  if (name.includes('\\')) throw refuse('uses a backslash');
  if (DRIVE.test(name)) throw refuse('names a drive');
  if (name.startsWith('/')) throw refuse('is an absolute path');
  const isDirectory = name.endsWith('/');
  const segments = (isDirectory ? name.slice(0, -1) : name).split('/');
  for (const segment of segments) {
    if (segment === '..' || segment === '.') throw refuse('has a "." or ".." segment');
    if (segment === '' && name !== '') throw refuse('has an empty segment');
  }
  return isDirectory ? undefined : name;
}

/** The directory part of a package path ('' for the root). */
export function dirOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/**
 * Resolves a reference found in the file at `from` (GB/T 33190 §7.5: a path starting with `/` is
 * from the package root, any other from the referring file's directory, or from `base` when the
 * element gives one, such as a resource file's BaseLoc). `..` may step up inside the package,
 * never out of it.
 */
export function resolve(reference: string, from: string, base?: string): string {
  const ref = reference.trim();
  const refuse = (why: string) =>
    new OfdError('ofd_path_invalid', `reference ${JSON.stringify(reference)} ${why}`, from);
  if (ref === '') throw refuse('is empty');
  if (ref.includes('\\')) throw refuse('uses a backslash');
  if (DRIVE.test(ref) || /^[a-z][a-z0-9+.-]*:/i.test(ref)) throw refuse('names a drive or a URL scheme');
  if (/[\u0000-\u001f\u007f]/.test(ref)) throw refuse('contains a control character');
  const start = ref.startsWith('/') ? [] : (base ?? dirOf(from)).split('/').filter(Boolean);
  for (const segment of ref.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (start.length === 0) throw refuse('climbs out of the package');
      start.pop();
    } else start.push(segment);
  }
  if (start.length === 0) throw refuse('names the package root');
  return start.join('/');
}

/** Reads a package, refusing it before inflating anything when its directory breaks a limit. */
export function readPackage(bytes: Uint8Array, limits: OfdLimits = DEFAULT_OFD_LIMITS): OfdPackage {
  if (bytes.length > limits.maxPackageBytes)
    throw new OfdError(
      'ofd_too_large',
      `the file is ${bytes.length} bytes; at most ${limits.maxPackageBytes} are read`,
    );
  if (bytes.length < 22 || bytes[0] !== 0x50 || bytes[1] !== 0x4b)
    throw new OfdError('ofd_not_zip', 'the file is not a zip package (an OFD file is one)');
  let entries = 0;
  let total = 0;
  const declared = new Map<string, number>();
  let unzipped: Record<string, Uint8Array>;
  try {
    unzipped = unzipSync(bytes, {
      filter(file) {
        entries++;
        if (entries > limits.maxEntries)
          throw new OfdError('ofd_too_large', `the package has more than ${limits.maxEntries} entries`);
        const path = entryPath(file.name);
        if (path === undefined) return false;
        if (declared.has(path)) throw new OfdError('ofd_path_invalid', `zip entry ${path} appears twice`);
        if (file.originalSize > limits.maxEntryBytes)
          throw new OfdError(
            'ofd_too_large',
            `entry ${path} would inflate to ${file.originalSize} bytes; at most ${limits.maxEntryBytes} are read`,
          );
        total += file.originalSize;
        if (total > limits.maxTotalBytes)
          throw new OfdError(
            'ofd_too_large',
            `the entries would inflate to more than ${limits.maxTotalBytes} bytes in all`,
          );
        if (
          file.originalSize > limits.ratioFloorBytes &&
          file.originalSize > limits.maxCompressionRatio * Math.max(file.size, 1)
        )
          throw new OfdError(
            'ofd_too_large',
            `entry ${path} is compressed ${Math.round(file.originalSize / Math.max(file.size, 1))} to 1; more than ${limits.maxCompressionRatio} to 1 is refused as a zip bomb`,
          );
        declared.set(path, file.originalSize);
        return true;
      },
    });
  } catch (error) {
    if (error instanceof OfdError) throw error;
    throw new OfdError('ofd_not_zip', `the zip package cannot be read (${(error as Error).message})`);
  }
  const files = new Map<string, Uint8Array>();
  for (const [name, data] of Object.entries(unzipped)) {
    const path = entryPath(name);
    if (path === undefined) continue;
    if (data.length !== declared.get(path))
      throw new OfdError('ofd_not_zip', `entry ${path} does not have the size its directory entry declares`);
    files.set(path, data);
  }
  checkCrcs(bytes, files);
  return new OfdPackage(files, limits);
}

/**
 * Compares each entry's CRC-32 from the central directory (APPNOTE.TXT §4.3.12) with its bytes:
 * fflate inflates into the declared size and would silently cut a longer stream or pad a shorter one.
 */
function checkCrcs(bytes: Uint8Array, files: Map<string, Uint8Array>): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new OfdError('ofd_not_zip', 'the zip package has no end of central directory');
  let at = view.getUint32(end + 16, true);
  const count = view.getUint16(end + 10, true);
  // A ZIP64 package puts 0xffffffff here; fflate has read it, and OFD packages of that size are refused by the limits anyway.
  if (at === 0xffffffff) return;
  const utf8 = new TextDecoder();
  const latin1 = new TextDecoder('latin1');
  const checked = new Set<string>();
  for (let i = 0; i < count; i++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== 0x02014b50)
      throw new OfdError('ofd_not_zip', 'the zip central directory is damaged');
    // General purpose flag bit 11: the name is UTF-8 (else CP437, which fflate reads as Latin-1).
    const decoder = view.getUint16(at + 8, true) & 0x800 ? utf8 : latin1;
    const crc = view.getUint32(at + 16, true);
    const nameLength = view.getUint16(at + 28, true);
    const extra = view.getUint16(at + 30, true);
    const comment = view.getUint16(at + 32, true);
    const name = decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    const data = files.get(name);
    if (data && crc32(data) >>> 0 !== crc)
      throw new OfdError('ofd_not_zip', `entry ${name} does not match its CRC-32: the package is damaged`);
    if (data) checked.add(name);
    at += 46 + nameLength + extra + comment;
  }
  if (checked.size !== files.size)
    throw new OfdError('ofd_not_zip', 'the zip central directory does not list every entry');
}

/**
 * A zip package of `files` in the order given. The bytes of each file are stored as they are:
 * signatures cover files, not the zip, so rewriting the container leaves every digest intact.
 * Entries get a fixed time so the same files give the same package.
 */
export function writePackage(files: Iterable<[string, Uint8Array]>): Uint8Array {
  const zippable: Zippable = {};
  const mtime = new Date('2000-01-01T00:00:00Z');
  for (const [path, data] of files) {
    entryPath(path);
    zippable[path] = [data, { level: /\.(png|jpe?g|gif|dat|esl)$/i.test(path) ? 0 : 6, mtime }];
  }
  return zipSync(zippable);
}
