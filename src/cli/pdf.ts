// `sigil pdf sign` and `sigil pdf verify`: the signing engine on the command line.
// Exit statuses as everywhere: 0 success, 1 a negative verdict, 2 bad input or usage.
import { readFile, writeFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { AppError } from '../server/errors.js';
import {
  PADES_LEVELS,
  PDF_SIGNATURE_PROFILES,
  type PdfSignatureProfile,
  SigningError,
  signPdf,
  staticRevocationSource,
  type PadesLevel,
  type SignPdfOptions,
  signerFromPkcs12,
  openPkcs11Signer,
  type Signer,
  prepareImage,
  httpRevocationSource,
  createHttpTimestamper,
  readPdfFile,
  verifyPdf,
  type SignatureReport,
  type VerificationReport,
  pemToDer,
} from '../signing/index.js';

function numbers(count: number, label: string) {
  return (value: string): number[] => {
    const parts = value.split(',').map((p) => Number(p.trim()));
    if (parts.length !== count || parts.some((n) => !Number.isFinite(n)))
      throw new InvalidArgumentError(`must be ${label}`);
    return parts;
  };
}

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a page number (1, 2, …)');
  return Number(value);
}

function profile(value: string): PdfSignatureProfile {
  if (!(PDF_SIGNATURE_PROFILES as readonly string[]).includes(value))
    throw new InvalidArgumentError(`must be one of ${PDF_SIGNATURE_PROFILES.join(', ')}`);
  return value as PdfSignatureProfile;
}

function level(value: string): PadesLevel {
  if (!(PADES_LEVELS as readonly string[]).includes(value))
    throw new InvalidArgumentError(`must be one of ${PADES_LEVELS.join(', ')}`);
  return value as PadesLevel;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

async function readInput(path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new AppError(
      'validation_failed',
      `Cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`,
    );
  }
}

/** Certificates from PEM (one or many) or a single DER file. */
async function readCertificates(paths: string[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const path of paths) {
    const data = await readInput(path, 'certificate file');
    const pem = pemToDer(data.toString('latin1'), 'CERTIFICATE');
    out.push(...(pem.length ? pem : [data]));
  }
  return out;
}

async function readCrls(paths: string[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const path of paths) {
    const data = await readInput(path, 'CRL file');
    const pem = pemToDer(data.toString('latin1'), 'X509 CRL');
    out.push(...(pem.length ? pem : [data]));
  }
  return out;
}

interface SignCommandOptions {
  p12?: string;
  password?: string;
  pkcs11?: string;
  token?: string;
  keyLabel?: string;
  pin?: string;
  cert?: string[];
  level: PadesLevel;
  profile?: PdfSignatureProfile;
  tsa?: string[];
  crl?: string[];
  image?: string;
  page?: number;
  rect?: number[];
  keyword?: string;
  offset?: number[];
  size?: number[];
  crossPage?: boolean;
  crossPageGroups: boolean;
  handwritten?: boolean;
  reason?: string;
  location?: string;
  field?: string;
}

/** The key to sign with: a PKCS#12 file, or a key that never leaves its PKCS#11 token. */
async function openSigner(options: SignCommandOptions): Promise<Signer & { close?: () => void }> {
  if (options.p12 && options.pkcs11) throw new AppError('validation_failed', 'Use --p12 or --pkcs11, not both.');
  if (options.pkcs11) {
    if (!options.pin) throw new AppError('validation_failed', '--pkcs11 needs --pin.');
    const [certificate, ...chain] = await readCertificates(options.cert ?? []);
    return openPkcs11Signer({
      library: options.pkcs11,
      pin: options.pin,
      ...(options.token ? { tokenLabel: options.token } : {}),
      ...(options.keyLabel ? { keyLabel: options.keyLabel } : {}),
      ...(certificate ? { certificate, chain } : {}),
    });
  }
  if (!options.p12)
    throw new AppError('validation_failed', 'Give the key: --p12 FILE --password PW, or --pkcs11 MODULE.');
  if (options.password === undefined) throw new AppError('validation_failed', '--p12 needs --password.');
  return signerFromPkcs12(await readInput(options.p12, 'PKCS#12 file'), options.password);
}

function describe(s: SignatureReport): string {
  const lines: string[] = [];
  const who = s.signer ? (s.signer.commonName ?? s.signer.subject) : 'unknown signer';
  const kind =
    s.kind === 'document-timestamp'
      ? 'document time-stamp'
      : `signature${s.level ? ` (PAdES ${s.level})` : s.algorithm === 'SM2-with-SM3' ? ' (SM2/SM3)' : ''}`;
  const status = s.status === 'valid' ? 'VALID' : s.status === 'unknown-signer' ? 'UNKNOWN SIGNER' : 'INVALID';
  lines.push(`#${s.index + 1} ${s.fieldName}: ${status} ${kind} by ${who}`);
  lines.push(
    `   signed at ${s.signedAt ?? 'unknown time'} (${s.timestamped ? (s.timestampTrusted ? 'trusted time-stamp' : 'time-stamp') : 'claimed by the signer'})`,
  );
  lines.push(`   chain ${s.chainTrusted ? 'trusted' : 'NOT trusted'}: ${s.chain.join(' → ')}`);
  lines.push(
    `   revocation: ${s.revocation}; ${
      s.coversWholeDocument
        ? 'covers the whole document'
        : s.modifiedAfter === 'altered'
          ? 'the document was CHANGED after it'
          : s.modifiedAfter === 'signatures-and-validation-data'
            ? 'later revisions add only what it permits'
            : 'does not cover the whole document'
    }`,
  );
  for (const change of s.changesAfter) lines.push(`   changed after it: ${change}`);
  for (const seal of s.seals)
    lines.push(
      `   seal image ${seal.width}×${seal.height} on page ${seal.page} at [${seal.rect.map((n) => n.toFixed(1)).join(', ')}]`,
    );
  for (const p of s.problems) lines.push(`   problem: ${p}`);
  return lines.join('\n');
}

function formatReport(file: string, report: VerificationReport): string {
  if (report.signatures.length === 0) return `${file}: no signatures\n`;
  const verdict =
    report.verdict === 'valid'
      ? 'valid'
      : report.verdict === 'unknown-signer'
        ? 'intact, but a signer is NOT TRUSTED'
        : 'NOT VALID';
  const head = `${file}: ${verdict} — ${report.signatures.length} signature${report.signatures.length === 1 ? '' : 's'}, ${report.revisions} revision${report.revisions === 1 ? '' : 's'}, SHA-256 ${report.sha256}`;
  return `${head}\n${report.signatures.map(describe).join('\n')}\n`;
}

/** Adds `pdf sign` and `pdf verify` to the program. */
export function registerPdfCommands(program: Command): void {
  const pdf = program.command('pdf').description('sign and verify PDF documents (PAdES)');

  pdf
    .command('sign')
    .description('sign IN.pdf into OUT.pdf with a PKCS#12 key or a PKCS#11 token key, optionally with a visible seal')
    .argument('<in>', 'PDF to sign')
    .argument('<out>', 'where to write the signed PDF')
    .option('--p12 <file>', 'PKCS#12 file with the key and certificate chain')
    .option('--password <password>', 'password of the PKCS#12 file')
    .option('--pkcs11 <module>', 'sign with a key in a PKCS#11 token instead, e.g. /usr/lib/softhsm/libsofthsm2.so')
    .option('--token <label>', 'with --pkcs11: the token (the first token with a key when absent)')
    .option('--key-label <label>', 'with --pkcs11: the key (the first private key when absent)')
    .option('--pin <pin>', "with --pkcs11: the token's user PIN")
    .option(
      '--cert <pem>',
      "with --pkcs11: the key's certificate, then its chain (PEM or DER, repeatable); else read from the token",
      collect,
    )
    .option('--level <level>', `PAdES level: ${PADES_LEVELS.join(', ')}`, level, 'B-B' as PadesLevel)
    .option(
      '--profile <profile>',
      'pades (RSA, ECDSA) or sm2 (national cryptography: SM2-with-SM3 CMS, SM3 digest, adbe.pkcs7.detached; B-B or B-T); by default sm2 for an SM2 key, else pades',
      profile,
    )
    .option('--tsa <url>', 'RFC 3161 time-stamping URL (repeat for failover); needed from B-T on', collect)
    .option(
      '--crl <file>',
      'CRL (DER or PEM) to embed for B-LT and B-LTA (repeatable); else they are fetched from the certificates',
      collect,
    )
    .option('--image <png>', 'seal or signature image (PNG, transparency kept)')
    .option('--page <n>', 'page for the image (with --rect), or the page to search (with --keyword)', positiveInt)
    .option(
      '--rect <x,y,w,h>',
      'where the image goes, in PDF points from the bottom-left corner',
      numbers(4, 'x,y,w,h'),
    )
    .option('--keyword <text>', 'place the image centred on this text, e.g. 甲方（盖章）')
    .option('--offset <dx,dy>', 'move the image from the keyword by this much (points)', numbers(2, 'dx,dy'))
    .option('--size <w,h>', 'image size in points with --keyword (default 42 mm wide)', numbers(2, 'w,h'))
    .option(
      '--cross-page',
      'cross-page seal (骑缝章): the image cut into strips along the right edge of every page as shown; over many pages, groups of whole seals with strips of at least 3 mm',
    )
    .option(
      '--no-cross-page-groups',
      'with --cross-page: refuse, rather than form groups, when strips would be under 3 mm',
    )
    .option('--handwritten', 'the image is a handwritten signature rather than a seal')
    .option('--reason <text>', 'reason for signing')
    .option('--location <text>', 'where the signing took place')
    .option('--field <name>', 'name of the signature field')
    .action(async (input: string, output: string, options: SignCommandOptions) => {
      if ((options.rect || options.keyword || options.crossPage) && !options.image)
        throw new AppError('validation_failed', '--rect, --keyword and --cross-page need --image.');
      if (options.image && !options.crossPage && !options.keyword && !(options.page && options.rect))
        throw new AppError(
          'validation_failed',
          '--image needs --page N --rect x,y,w,h, or --keyword TEXT, or --cross-page.',
        );
      if (options.rect && options.keyword)
        throw new AppError('validation_failed', 'Use --rect or --keyword, not both.');
      if (options.crossPage && (options.rect || options.keyword))
        throw new AppError('validation_failed', '--cross-page places the image itself; drop --rect and --keyword.');
      if (options.level !== 'B-B' && !options.tsa?.length)
        throw new AppError('validation_failed', `PAdES ${options.level} needs --tsa URL.`);
      const pdfBytes = await readPdfFile(input).catch((error: unknown) => {
        if (error instanceof AppError || error instanceof SigningError) throw error;
        throw new AppError(
          'validation_failed',
          `Cannot read ${input}: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`,
        );
      });
      const signer = await openSigner(options);
      const sign: SignPdfOptions = {
        signer,
        level: options.level,
        profile: options.profile,
        reason: options.reason,
        location: options.location,
        fieldName: options.field,
      };
      if (options.tsa?.length) sign.timestamper = createHttpTimestamper({ urls: options.tsa });
      let fetched: ReturnType<typeof httpRevocationSource> | null = null;
      if (options.crl?.length) sign.revocation = staticRevocationSource(await readCrls(options.crl));
      else if (options.level === 'B-LT' || options.level === 'B-LTA')
        sign.revocation = fetched = httpRevocationSource();
      if (options.image) {
        const image = prepareImage(await readInput(options.image, 'image'));
        const kind = options.handwritten ? 'handwritten' : 'seal';
        if (options.crossPage) sign.crossPage = { image, groups: options.crossPageGroups };
        else if (options.keyword)
          sign.appearance = {
            image,
            kind,
            at: {
              keyword: options.keyword,
              page: options.page,
              offset: options.offset as [number, number] | undefined,
              size: options.size as [number, number] | undefined,
            },
          };
        else
          sign.appearance = {
            image,
            kind,
            at: { page: options.page!, rect: options.rect as [number, number, number, number] },
          };
      }
      const signed = await signPdf(pdfBytes, sign).finally(() => signer.close?.());
      for (const failure of fetched?.failures ?? []) process.stderr.write(`warning: no CRL from ${failure}\n`);
      await writeFile(output, signed);
      const made =
        (options.profile ?? (signer.keyType === 'SM2' ? 'sm2' : 'pades')) === 'sm2'
          ? `SM2/SM3${options.level === 'B-T' ? ' with time-stamp' : ''}`
          : `PAdES ${options.level}`;
      process.stdout.write(`signed ${output} (${made}, ${signed.length} bytes)\n`);
    });

  pdf
    .command('verify')
    .description('verify every signature of a PDF (exit 1 when one is invalid or the document was altered)')
    .argument('<file>', 'PDF to verify')
    .option('--trust <pem>', 'trusted root certificate(s), PEM or DER (repeatable)', collect)
    .option('--crl <file>', 'CRL (DER or PEM) to use besides those in the document (repeatable)', collect)
    .option('--json', 'print the report as JSON')
    .option('--images', 'include each seal image (PNG, base64) in the JSON report')
    .action(async (file: string, options: { trust?: string[]; crl?: string[]; json?: boolean; images?: boolean }) => {
      const pdfBytes = await readPdfFile(file).catch((error: unknown) => {
        if (error instanceof AppError || error instanceof SigningError) throw error;
        throw new AppError(
          'validation_failed',
          `Cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}.`,
        );
      });
      const trustAnchors = await readCertificates(options.trust ?? []);
      const crls = await readCrls(options.crl ?? []);
      const report = await verifyPdf(pdfBytes, { trustAnchors, crls, extractImages: options.images });
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(file, report));
      // `valid` already requires a validated path once --trust names roots: one verdict everywhere.
      process.exitCode = report.signatures.length > 0 && report.intact ? 0 : 1;
    });
}
