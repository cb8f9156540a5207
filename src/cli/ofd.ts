// `sigil ofd verify`, `sigil ofd sign` and `sigil ofd text`: OFD documents (GB/T 33190) and their
// GB/T 38540 seal signatures on the command line. Exit statuses as everywhere: 0 success, 1 a
// negative verdict, 2 bad input or usage.
import { createHash } from 'node:crypto';
import { InvalidArgumentError, type Command } from 'commander';
import {
  DEFAULT_OFD_LIMITS,
  OfdError,
  extractText,
  openPackage,
  readPackage,
  sealPictureOfSeal,
  sesSignatureProvider,
  sesSignatureVerifier,
  signOfd,
  verifyOfdFile,
  type Box,
  type OfdFile,
  type OfdSignatureReport,
  type SealSignatureVerifier,
  type StampPlacement,
} from '../ofd/index.js';
import { AppError } from '../server/errors.js';
import {
  decodeSesSignature,
  parseCertificate,
  verifySesSignature,
  SEAL_LIMITS,
  signerFromPem,
  type DecodedSesSignature,
} from '../signing/index.js';
import { MAX_PEM_BYTES, readBounded, readCertificates, writeOutput } from './input.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a page number (1, 2, …)');
  return Number(value);
}

/** `x,y` (the seal's own size) or `x,y,w,h`, in millimetres from the page's top left. */
function placement(value: string): number[] {
  const parts = value.split(',').map((p) => (p.trim() === '' ? NaN : Number(p.trim())));
  if ((parts.length !== 2 && parts.length !== 4) || parts.some((n) => !Number.isFinite(n)))
    throw new InvalidArgumentError('must be x,y or x,y,w,h in millimetres');
  return parts;
}

/** The file read within the OFD limits and opened; what the library refuses is said with the file's name. */
async function readOfd(path: string): Promise<{ bytes: Buffer; file: OfdFile }> {
  const bytes = await readBounded(path, 'OFD file', DEFAULT_OFD_LIMITS.maxPackageBytes);
  try {
    return { bytes, file: openPackage(readPackage(bytes)) };
  } catch (error) {
    throw named(path, error);
  }
}

/** An OfdError as bad input naming the file; anything else as it is. */
function named(path: string, error: unknown): unknown {
  return error instanceof OfdError ? new AppError('validation_failed', `${path}: ${error.message}`) : error;
}

// ---------------------------------------------------------------- verify

interface SignatureDetails {
  seal: {
    name: string;
    id: string;
    version: number;
    type: number;
    validStart: string;
    validEnd: string;
    maker: string;
  } | null;
  signer: { subject: string; serial: string } | null;
  /** The time in the seal signature (timeInfo): the signer's claim unless time-stamped. */
  signedAt: string | null;
  timeStamped: boolean;
}

/** What the signed value itself says, read without judging it (the verifier judged it). */
function detailsOf(signedValue: Uint8Array | undefined): SignatureDetails {
  let decoded: DecodedSesSignature;
  try {
    if (!signedValue) throw new Error('absent');
    decoded = decodeSesSignature(signedValue);
  } catch {
    return { seal: null, signer: null, signedAt: null, timeStamped: false };
  }
  const { seal } = decoded;
  let signer: SignatureDetails['signer'] = null;
  let maker = '';
  try {
    const cert = parseCertificate(decoded.certificate);
    signer = { subject: cert.subject, serial: cert.serial.toString(16) };
  } catch {
    // An unreadable certificate is among the verifier's problems already.
  }
  try {
    maker = parseCertificate(seal.maker).subject;
  } catch {
    // As above.
  }
  return {
    seal: {
      name: seal.name,
      id: seal.id,
      version: seal.version,
      type: seal.type,
      validStart: seal.validStart.toISOString(),
      validEnd: seal.validEnd.toISOString(),
      maker,
    },
    signer,
    signedAt: decoded.timeInfo.toISOString(),
    timeStamped: decoded.timeStamp !== null,
  };
}

/**
 * The signer's and the seal maker's paths to the given roots, on their own: the verdict above
 * already counts them, this says which of its reasons it was.
 */
function chainOf(signedValue: Uint8Array | undefined, trustAnchors: Buffer[]): OfdSignatureSummary['chain'] {
  if (!signedValue || trustAnchors.length === 0) return 'not-checked';
  const { checks } = verifySesSignature(signedValue, { trustAnchors });
  const chains = [checks.signerChain, checks.seal?.checks.chain ?? 'not-checked'];
  if (chains.includes('untrusted')) return 'untrusted';
  return chains.every((c) => c === 'trusted') ? 'trusted' : 'not-checked';
}

export interface OfdSignatureSummary extends SignatureDetails {
  id: string;
  type: OfdSignatureReport['type'];
  path: string;
  valid: boolean;
  provider: string | null;
  signatureMethod: string | null;
  /** As Signature.xml states it (the producer's local time, no zone). */
  signatureDateTime: string | null;
  checkMethod: string | null;
  /** 'not-checked' without --trust: the signature holds, but nobody said whose roots to believe. */
  chain: 'trusted' | 'untrusted' | 'not-checked';
  references: OfdSignatureReport['references'];
  unprotected: string[];
  stamps: Array<{ page: number | null; pageRef: string; boundary: Box; clip?: Box }>;
  signedValue: { status: OfdSignatureReport['signedValue']['status']; reason?: string };
  problems: string[];
  notes: string[];
}

export interface OfdCliReport {
  file: string;
  sha256: string;
  valid: boolean;
  signatures: OfdSignatureSummary[];
}

async function verifyFile(path: string, trustAnchors: Buffer[]): Promise<OfdCliReport> {
  const { bytes, file } = await readOfd(path);
  const inner = sesSignatureVerifier(trustAnchors.length ? { trustAnchors } : {});
  // The signed values as the verifier saw them, by the Signature.xml they protect, to describe each.
  const seen = new Map<string, Uint8Array>();
  const verifier: SealSignatureVerifier = {
    verify(input) {
      seen.set(input.propertyInfo, input.signedValue);
      return inner.verify(input);
    },
  };
  const report = await verifyOfdFile(file, { verifier }).catch((error: unknown) => {
    throw named(path, error);
  });
  const signatures = report.signatures.map((s): OfdSignatureSummary => {
    const details = s.type === 'Seal' ? detailsOf(seen.get('/' + s.path)) : detailsOf(undefined);
    const notes = s.signedValue.status === 'valid' || s.signedValue.status === 'invalid' ? s.signedValue.notes : [];
    return {
      id: s.id,
      type: s.type,
      path: s.path,
      valid: s.valid,
      provider: s.provider ?? null,
      signatureMethod: s.signatureMethod ?? null,
      signatureDateTime: s.signatureDateTime ?? null,
      checkMethod: s.checkMethod ?? null,
      ...details,
      chain: s.type === 'Seal' ? chainOf(seen.get('/' + s.path), trustAnchors) : 'not-checked',
      references: s.references,
      unprotected: s.unprotected,
      stamps: s.stamps.map((t) => ({
        page: t.pageIndex === undefined ? null : t.pageIndex + 1,
        pageRef: t.pageRef,
        boundary: t.boundary,
        ...(t.clip ? { clip: t.clip } : {}),
      })),
      signedValue: {
        status: s.signedValue.status,
        ...(s.signedValue.status !== 'valid' ? { reason: s.signedValue.reason } : {}),
      },
      problems: s.problems,
      notes: notes ?? [],
    };
  });
  return {
    file: path,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    valid: report.valid,
    signatures,
  };
}

const mm = (box: Box) => `[${box.map((n) => Number(n.toFixed(2))).join(', ')}] mm`;

function describe(s: OfdSignatureSummary): string {
  const lines: string[] = [];
  const who = s.signer?.subject ?? 'unknown signer';
  lines.push(
    `#${s.id} ${s.type === 'Seal' ? 'seal signature' : 'signature without a seal'} ${s.path}: ${s.valid ? 'VALID' : 'INVALID'}`,
  );
  if (s.seal)
    lines.push(
      `   seal: ${s.seal.name} (v${s.seal.version}, esID ${s.seal.id}, valid ${s.seal.validStart} to ${s.seal.validEnd}, made by ${s.seal.maker || 'an unreadable certificate'})`,
    );
  lines.push(`   signer: ${who}`);
  lines.push(
    `   signed at ${s.signedAt ?? s.signatureDateTime ?? 'unknown time'} (${s.timeStamped ? 'time-stamped' : 'claimed by the signer'})`,
  );
  lines.push(
    `   chain: ${s.chain === 'trusted' ? 'trusted' : s.chain === 'untrusted' ? 'NOT trusted' : 'not checked (give --trust ROOT.pem)'}`,
  );
  const count = (status: string) => s.references.filter((r) => r.status === status).length;
  lines.push(
    `   references (${s.checkMethod ?? 'no check method'}): ${count('intact')} intact, ${count('changed')} changed, ${count('missing')} missing`,
  );
  for (const r of s.references) if (r.status !== 'intact') lines.push(`     ${r.status}: /${r.path}`);
  lines.push(
    `   unprotected files: ${s.unprotected.length === 0 ? 'none' : s.unprotected.map((u) => '/' + u).join(', ')}`,
  );
  for (const t of s.stamps)
    lines.push(
      `   stamp on ${t.page === null ? `missing page ${t.pageRef}` : `page ${t.page}`} at ${mm(t.boundary)}${t.clip ? `, clipped to ${mm(t.clip)} (cross-page slice)` : ''}`,
    );
  for (const p of s.problems) lines.push(`   problem: ${p}`);
  for (const n of s.notes) lines.push(`   note: ${n}`);
  return lines.join('\n');
}

function formatReport(report: OfdCliReport): string {
  if (report.signatures.length === 0) return `${report.file}: no signatures (SHA-256 ${report.sha256})\n`;
  const n = report.signatures.length;
  const head = `${report.file}: ${report.valid ? 'valid' : 'NOT VALID'} — ${n} signature${n === 1 ? '' : 's'}, SHA-256 ${report.sha256}`;
  return `${head}\n${report.signatures.map(describe).join('\n')}\n`;
}

// ---------------------------------------------------------------- sign

interface SignOptions {
  seal: string;
  key: string;
  cert: string[];
  page?: number;
  at?: number[];
  crossPage?: boolean;
}

/** Adds `ofd verify`, `ofd sign` and `ofd text` to the program. */
export function registerOfdCommands(program: Command): void {
  const ofd = program.command('ofd').description('sign and verify OFD documents (GB/T 33190) with GB/T 38540 seals');

  ofd
    .command('verify')
    .description(
      'verify every signature of an OFD file: each protected file’s digest, files no signature protects, the seal signature (exit 1 when one is invalid)',
    )
    .argument('<file>', 'OFD file to verify')
    .option(
      '--trust <pem>',
      'trusted root certificate(s), PEM or DER (repeatable); valid then needs a trusted chain',
      collect,
    )
    .option('--json', 'print the report as JSON')
    .action(async (file: string, options: { trust?: string[]; json?: boolean }) => {
      const trustAnchors = await readCertificates(options.trust ?? [], 'trusted root file');
      const report = await verifyFile(file, trustAnchors);
      process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      process.exitCode = report.valid ? 0 : 1;
    });

  ofd
    .command('sign')
    .description('sign IN.ofd into OUT.ofd with an electronic seal (.esl) and an SM2 key listed on it')
    .argument('<in>', 'OFD file to sign (it may carry signatures already; they stay valid)')
    .argument('<out>', 'where to write the signed OFD')
    .requiredOption('--seal <esl>', 'the electronic seal (GB/T 38540 .esl)')
    .requiredOption('--key <pem>', 'the signer’s SM2 private key (PKCS#8 PEM)')
    .requiredOption('--cert <pem>', 'the signer’s certificate, then its chain (PEM, repeatable)', collect)
    .option('--page <n>', 'page for the stamp (with --at; default 1)', positiveInt)
    .option(
      '--at <x,y[,w,h]>',
      'where the stamp goes, mm from the top left; w,h default to the seal picture’s size',
      placement,
    )
    .option('--cross-page', 'cross-page seal (骑缝章): one slice of the seal over the right edge of every page')
    .action(async (input: string, output: string, options: SignOptions) => {
      if (options.page !== undefined && !options.at)
        throw new AppError('validation_failed', '--page goes with --at x,y.');
      const file = await readBounded(input, 'OFD file', DEFAULT_OFD_LIMITS.maxPackageBytes);
      const seal = await readBounded(options.seal, 'seal file', SEAL_LIMITS.maxBytes);
      const key = (await readBounded(options.key, 'key file', MAX_PEM_BYTES)).toString('latin1');
      const certificates = (await readCertificates(options.cert, 'certificate file'))
        .map((der) => `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`)
        .join('');
      const signer = signerFromPem({ key, certificates });
      if (signer.keyType !== 'SM2')
        throw new AppError(
          'validation_failed',
          `--key is an ${signer.keyType} key; GB/T 38540 seal signatures are made with SM2 keys.`,
        );
      const stamps: StampPlacement[] = [];
      if (options.at) {
        const [x, y, w, h] = options.at as [number, number, number?, number?];
        let size: [number, number];
        if (w !== undefined && h !== undefined) size = [w, h];
        else {
          const picture = sealPictureOfSeal(seal);
          if (!picture)
            throw new AppError('validation_failed', 'The seal has no picture with a size; give --at x,y,w,h.');
          size = [picture.widthMm, picture.heightMm];
        }
        stamps.push({ page: (options.page ?? 1) - 1, boundary: [x, y, ...size] });
      }
      const signed = await signOfd(file, {
        provider: sesSignatureProvider({ seal, signer }),
        stamps,
        ...(options.crossPage ? { crossPage: {} } : {}),
      }).catch((error: unknown) => {
        throw named(input, error);
      });
      await writeOutput(output, signed);
      const what = [
        ...stamps.map((s) => `a stamp on page ${s.page + 1}`),
        ...(options.crossPage ? ['a cross-page seal'] : []),
      ];
      process.stdout.write(
        `signed ${output} (${what.length ? what.join(' and ') : 'no stamp shown'}, ${signed.length} bytes)\n`,
      );
    });

  ofd
    .command('text')
    .description('print the text of an OFD file, page by page (one text object a line)')
    .argument('<file>', 'OFD file')
    .option('--page <n>', 'only this page', positiveInt)
    .action(async (path: string, options: { page?: number }) => {
      const { file } = await readOfd(path);
      const pages = extractText(file);
      if (options.page !== undefined) {
        const text = pages[options.page - 1];
        if (text === undefined)
          throw new AppError(
            'validation_failed',
            `${path} has ${pages.length} page${pages.length === 1 ? '' : 's'}; there is no page ${options.page}.`,
          );
        process.stdout.write(`${text}\n`);
        return;
      }
      process.stdout.write(pages.map((text, i) => `--- page ${i + 1} ---\n${text}\n`).join(''));
    });
}
