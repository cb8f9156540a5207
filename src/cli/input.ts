// Reading the files a command is given: measured before they are read, so a wrong path (a disk
// image, a device) is refused by its size rather than read into memory; a failure names the file.
import { readFile, stat, writeFile } from 'node:fs/promises';
import { AppError } from '../server/errors.js';
import { parseCertificate, pemToDer } from '../signing/index.js';

/** Certificates and keys are small; a megabyte is far more than any chain in PEM. */
export const MAX_PEM_BYTES = 1024 * 1024;

const reason = (error: unknown) => (error as NodeJS.ErrnoException).code ?? String(error);

export async function readBounded(path: string, what: string, maxBytes: number): Promise<Buffer> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new AppError('validation_failed', `The ${what} ${path} is not a file.`);
    size = info.size;
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError('validation_failed', `Cannot read the ${what} ${path}: ${reason(error)}.`);
  }
  if (size > maxBytes)
    throw new AppError('validation_failed', `The ${what} ${path} has ${size} bytes; at most ${maxBytes} are read.`);
  try {
    return await readFile(path);
  } catch (error) {
    throw new AppError('validation_failed', `Cannot read the ${what} ${path}: ${reason(error)}.`);
  }
}

/** Certificates from PEM (one or many per file) or one DER certificate per file. */
export async function readCertificates(paths: string[], what = 'certificate file'): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const path of paths) {
    const data = await readBounded(path, what, MAX_PEM_BYTES);
    const pem = pemToDer(data.toString('latin1'), 'CERTIFICATE');
    const certificates = pem.length ? pem : [data];
    for (const der of certificates) {
      try {
        parseCertificate(der);
      } catch {
        throw new AppError(
          'validation_failed',
          `The ${what} ${path} is not a certificate (PEM with BEGIN CERTIFICATE, or one DER certificate).`,
        );
      }
    }
    out.push(...certificates);
  }
  return out;
}

export async function writeOutput(path: string, bytes: Uint8Array | string): Promise<void> {
  try {
    await writeFile(path, bytes);
  } catch (error) {
    throw new AppError('validation_failed', `Cannot write ${path}: ${reason(error)}.`);
  }
}

/** A moment given on the command line: an ISO 8601 date or date and time (a date alone is midnight UTC). */
export function parseMoment(value: string, option: string): Date {
  const trimmed = value.trim();
  const ms = /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(trimmed) ? Date.parse(trimmed) : NaN;
  if (!Number.isFinite(ms))
    throw new AppError(
      'validation_failed',
      `${option} must be a date such as 2027-01-31 or 2027-01-31T09:00:00+08:00.`,
    );
  return new Date(ms);
}
