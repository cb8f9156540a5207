// `sigil seal esl inspect` and `sigil seal esl issue`: GB/T 38540 electronic seal files (.esl)
// offline. Exit statuses as everywhere: 0 success, 1 a seal that does not verify, 2 bad input.
import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_SIZE_MM } from '../seal-image/seal-svg.js';
import { inspectSealImage, SEAL_IMAGE_LIMITS } from '../seal-image/inspect.js';
import { AppError } from '../server/errors.js';
import {
  issueSealFile,
  parseCertificate,
  SEAL_LIMITS,
  signerFromPem,
  verifySeal,
  type DecodedSeal,
  type SealVerdict,
} from '../signing/index.js';
import { MAX_PEM_BYTES, parseMoment, readBounded, readCertificates, writeOutput } from './input.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `w` or `w,h`: whole millimetres, as SES_ESPictrueInfo holds them. */
function sizeMm(value: string): [number, number] {
  const parts = value.split(',').map((p) => (p.trim() === '' ? NaN : Number(p.trim())));
  if (parts.length < 1 || parts.length > 2 || parts.some((n) => !Number.isSafeInteger(n) || n < 1 || n > 500))
    throw new InvalidArgumentError('must be w or w,h in whole millimetres (1–500)');
  return [parts[0]!, parts[1] ?? parts[0]!];
}

function sealType(value: string): number {
  if (!/^\d{1,7}$/.test(value) || Number(value) > 1_000_000)
    throw new InvalidArgumentError('must be a small whole number (GB/T 38540 leaves the numbering to the issuer)');
  return Number(value);
}

function subjectOf(der: Buffer): string {
  try {
    return parseCertificate(der).subject;
  } catch {
    return '(an unreadable certificate)';
  }
}

/** The seal as the JSON report states it: no picture bytes, certificates by subject. */
function describeSeal(seal: DecodedSeal) {
  return {
    version: seal.version,
    id: seal.id,
    vendorId: seal.vendorId,
    type: seal.type,
    name: seal.name,
    created: seal.createDate.toISOString(),
    validStart: seal.validStart.toISOString(),
    validEnd: seal.validEnd.toISOString(),
    maker: subjectOf(seal.maker),
    signers:
      seal.certListType === 'certificates'
        ? seal.certs.map((c) => ({ subject: subjectOf(c) }))
        : seal.certDigests.map((d) => ({ digest: `${d.algorithm}:${d.value.toString('hex')}` })),
    picture: { type: seal.picture.type, widthMm: seal.picture.widthMm, heightMm: seal.picture.heightMm },
    timeStamped: seal.timeStamp !== null,
  };
}

function formatSeal(file: string, verdict: SealVerdict & { seal: DecodedSeal }): string {
  const s = describeSeal(verdict.seal);
  const lines = [
    `${file}: ${verdict.valid ? 'valid' : 'NOT VALID'} at ${verdict.at.toISOString()} — v${s.version} seal “${s.name}”`,
    `   esID ${s.id}, type ${s.type}, vendor ${s.vendorId}, made ${s.created}`,
    `   valid ${s.validStart} to ${s.validEnd}`,
    `   made by ${s.maker} (signature ${verdict.checks.makerSignature ? 'holds' : 'DOES NOT HOLD'}; chain ${verdict.checks.chain})`,
    ...s.signers.map(
      (x) => `   may be used by ${'subject' in x ? x.subject : `the certificate with digest ${x.digest}`}`,
    ),
    `   picture: ${s.picture.type}, ${s.picture.widthMm}×${s.picture.heightMm} mm`,
    ...verdict.problems.map((p) => `   problem: ${p}`),
    ...verdict.notices.map((n) => `   note: ${n}`),
  ];
  return `${lines.join('\n')}\n`;
}

interface IssueOptions {
  makerCert: string[];
  makerKey: string;
  signerCert: string[];
  name: string;
  type: number;
  image: string;
  sizeMm?: [number, number];
  validFrom?: string;
  validTo: string;
  listAs: string;
  id?: string;
  out: string;
}

/** Adds `esl inspect` and `esl issue` under `seal`. */
export function registerEslCommands(seal: Command): void {
  const esl = seal.command('esl').description('GB/T 38540 electronic seal files (.esl)');

  esl
    .command('inspect')
    .description(
      'decode and verify an electronic seal: its maker’s signature, the maker’s certificate, its validity (exit 1 when it does not verify)',
    )
    .argument('<file>', 'the .esl file (v1, v4 or v5)')
    .option('--trust <pem>', 'trusted root certificate(s) for the maker’s chain, PEM or DER (repeatable)', collect)
    .option('--at <time>', 'judge the seal at this moment instead of now, e.g. 2021-06-01')
    .option('--json', 'print the report as JSON')
    .action(async (file: string, options: { trust?: string[]; at?: string; json?: boolean }) => {
      const der = await readBounded(file, 'seal file', SEAL_LIMITS.maxBytes);
      const trustAnchors = await readCertificates(options.trust ?? [], 'trusted root file');
      const at = options.at === undefined ? undefined : parseMoment(options.at, '--at');
      const verdict = verifySeal(der, { ...(at ? { at } : {}), ...(trustAnchors.length ? { trustAnchors } : {}) });
      // Not a seal at all is bad input, as `pdf verify` treats a file that is not a PDF.
      if (!verdict.seal)
        throw new AppError('validation_failed', `${file} is not an electronic seal: ${verdict.problems.join('; ')}`);
      const seal = verdict.seal;
      process.stdout.write(
        options.json
          ? `${JSON.stringify(
              {
                file,
                valid: verdict.valid,
                at: verdict.at.toISOString(),
                seal: describeSeal(seal),
                checks: verdict.checks,
                problems: verdict.problems,
                notices: verdict.notices,
              },
              null,
              2,
            )}\n`
          : formatSeal(file, { ...verdict, seal }),
      );
      process.exitCode = verdict.valid ? 0 : 1;
    });

  esl
    .command('issue')
    .description('issue a GB/T 38540 (v4) seal, signed by the seal maker’s SM2 key, listing who may use it')
    .requiredOption('--maker-cert <pem>', 'the seal maker’s certificate, then its chain (PEM, repeatable)', collect)
    .requiredOption('--maker-key <pem>', 'the seal maker’s SM2 private key (PKCS#8 PEM)')
    .requiredOption('--signer-cert <pem>', 'a certificate that may use the seal (PEM or DER, repeatable)', collect)
    .requiredOption('--name <name>', 'the seal’s registered name, e.g. 某某有限公司合同专用章')
    .option('--type <n>', 'seal type number (the issuer’s numbering)', sealType, 1)
    .requiredOption('--image <file>', 'the impression: a transparent PNG or an SVG (see `sigil seal image`)')
    .option('--size-mm <w[,h]>', `printed size in millimetres (default ${DEFAULT_SIZE_MM.round})`, sizeMm)
    .option('--valid-from <date>', 'first moment of validity, ISO 8601 (default now; a date alone is 00:00 UTC)')
    .requiredOption(
      '--valid-to <date>',
      'last moment of validity, ISO 8601, e.g. 2028-12-31T23:59:59+08:00 (a date alone is 00:00 UTC)',
    )
    .option('--list-as <how>', 'list the signers as whole certificates or as SM3 digests', 'certificates')
    .option('--id <esID>', 'the seal’s identifier (default: 32 random hex digits)')
    .requiredOption('--out <file>', 'where to write the .esl')
    .action(async (options: IssueOptions) => {
      if (options.listAs !== 'certificates' && options.listAs !== 'digests')
        throw new AppError('validation_failed', '--list-as must be certificates or digests.');
      const validStart = options.validFrom === undefined ? new Date() : parseMoment(options.validFrom, '--valid-from');
      const validEnd = parseMoment(options.validTo, '--valid-to');
      const key = (await readBounded(options.makerKey, 'key file', MAX_PEM_BYTES)).toString('latin1');
      const makerCerts = await readCertificates(options.makerCert, 'certificate file');
      const maker = signerFromPem({
        key,
        certificates: makerCerts
          .map((der) => `-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`)
          .join(''),
      });
      const signers = await readCertificates(options.signerCert, 'certificate file');
      const image = await readBounded(options.image, 'image', SEAL_IMAGE_LIMITS.maxBytes);
      const inspected = inspectSealImage(image);
      const [widthMm, heightMm] = options.sizeMm ?? [DEFAULT_SIZE_MM.round, DEFAULT_SIZE_MM.round];
      const der = await issueSealFile({
        maker,
        name: options.name,
        type: options.type,
        signers,
        listAs: options.listAs,
        validStart,
        validEnd,
        ...(options.id !== undefined ? { id: options.id } : {}),
        picture: { type: inspected.mediaType === 'image/png' ? 'png' : 'svg', data: image, widthMm, heightMm },
      });
      await writeOutput(options.out, der);
      process.stdout.write(
        `wrote ${options.out}: v4 seal “${options.name}” for ${signers.length} signer${signers.length === 1 ? '' : 's'}, valid ${validStart.toISOString()} to ${validEnd.toISOString()}, ${der.length} bytes\n`,
      );
    });
}
