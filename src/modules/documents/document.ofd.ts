// OFD documents (GB/T 33190) in the platform: recognised by content (a zip whose root holds
// OFD.xml), read within limits tighter than the library's defaults (what a 20 MB upload may hold),
// and every OfdError of bad input answered as a problem that names the file at fault.
import { AppError } from '../../server/errors.js';
import { OfdError, ofdLimits, openOfd, type OfdFile, type OfdLimits } from '../../ofd/index.js';

export const OFD_MEDIA_TYPE = 'application/ofd';

/**
 * What the platform reads of an OFD: its packages are uploads of at most 20 MB, so a package
 * that inflates to more than 64 MB, or holds more than 2000 files or pages, is refused unread.
 */
export const PLATFORM_OFD_LIMITS: OfdLimits = ofdLimits({
  maxPackageBytes: 20 * 1024 * 1024,
  maxEntries: 2_000,
  maxEntryBytes: 32 * 1024 * 1024,
  maxTotalBytes: 64 * 1024 * 1024,
  maxPages: 1_000,
  maxSignatures: 100,
  maxReferences: 5_000,
});

const ZIP = [0x50, 0x4b, 0x03, 0x04];

/** A zip's local file header at byte 0: the only form of OFD package read (no prefix, no self-extractor). */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && ZIP.every((b, i) => bytes[i] === b);
}

/** A problem for an OfdError of bad input; anything else is rethrown as it is. */
export function ofdProblem(error: unknown): unknown {
  if (!(error instanceof OfdError)) return error;
  // What was asked of the document cannot be done (a stamp off the page, a cross-page seal on one page).
  if (error.code === 'ofd_options_invalid' || error.code === 'ofd_not_found')
    return new AppError('validation_failed', `${error.message}.`, {
      errors: [{ field: 'body', message: error.message }],
    });
  if (error.code === 'ofd_too_large')
    return new AppError('payload_too_large', `The OFD file is beyond what Sigil reads: ${error.message}.`);
  return new AppError('ofd_malformed', `The OFD file cannot be read: ${error.message}.`, {
    reason: error.code,
    ...(error.path ? { path: error.path } : {}),
  });
}

/** Reads an OFD within the platform's limits, or throws a problem saying why it is not one. */
export function openPlatformOfd(bytes: Uint8Array): OfdFile {
  try {
    return openOfd(bytes, PLATFORM_OFD_LIMITS);
  } catch (error) {
    throw ofdProblem(error);
  }
}
