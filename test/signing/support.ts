// Shared set-up for the signing tests: a test PKI made with Sigil's own CA functions, the
// independent Debian verifiers (pdfsig, openssl, qpdf, mutool), and a seal image.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import {
  createCrl,
  createIssuingCa,
  createRootCa,
  generateKey,
  issuePersonCertificate,
  issueSealCertificate,
  issueTsaCertificate,
  type KeySpec,
} from '../../src/signing/ca.js';
import { createKeySigner, withCertificate, type KeySigner, type Signer } from '../../src/signing/signer.js';
import { createInProcessTimestamper, type TimeStampAuthority, type Timestamper } from '../../src/signing/tsa.js';
import { derToPem } from '../../src/signing/x509.js';

const TOOLS: Record<string, string> = {
  pdfsig: 'poppler-utils',
  pdftotext: 'poppler-utils',
  qpdf: 'qpdf',
  certutil: 'libnss3-tools',
  pk12util: 'libnss3-tools',
  mutool: 'mupdf-tools',
  openssl: 'openssl',
  'softhsm2-util': 'softhsm2',
};

/** Fails (never skips) when a verifier is missing, naming the Debian package that provides it. */
export function requireTool(tool: keyof typeof TOOLS | string): void {
  const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  if (found.status !== 0) throw new Error(`${tool} is not installed: apt-get install ${TOOLS[tool] ?? tool}`);
}

export function run(
  command: string,
  args: string[],
  options: { input?: Buffer; allowFailure?: boolean } = {},
): { status: number; out: string } {
  const result = spawnSync(command, args, {
    input: options.input,
    encoding: 'buffer',
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const out = Buffer.concat([result.stdout ?? Buffer.alloc(0), result.stderr ?? Buffer.alloc(0)]).toString('utf8');
  if (!options.allowFailure && result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${out}`);
  return { status: result.status ?? -1, out };
}

export function tempDir(prefix = 'sigil-signing-'): {
  dir: string;
  file: (name: string, data?: Buffer | string) => string;
  remove: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    file: (name, data) => {
      const path = join(dir, name);
      if (data !== undefined) writeFileSync(path, data);
      return path;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export const SOFTHSM_LIBRARY = '/usr/lib/softhsm/libsofthsm2.so';

/**
 * A SoftHSM2 store of the test's own in `tmp`, with a token per label under `pin`. SoftHSM reads
 * its configuration when the module initialises (on the first key), so SOFTHSM2_CONF is set here,
 * for this process and the processes it starts.
 */
export function softHsmTokens(tmp: ReturnType<typeof tempDir>, labels: string[], pin: string): void {
  requireTool('softhsm2-util');
  if (!existsSync(SOFTHSM_LIBRARY)) throw new Error(`${SOFTHSM_LIBRARY} is missing: apt-get install softhsm2`);
  mkdirSync(join(tmp.dir, 'tokens'));
  process.env.SOFTHSM2_CONF = tmp.file(
    'softhsm2.conf',
    `directories.tokendir = ${join(tmp.dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`,
  );
  for (const label of labels)
    run('softhsm2-util', ['--init-token', '--free', '--label', label, '--pin', pin, '--so-pin', '13579111']);
}

export interface Party {
  key: Awaited<ReturnType<typeof generateKey>>;
  signer: Signer;
}

export interface TestPki {
  root: Buffer;
  rootSigner: KeySigner;
  ca: Buffer;
  caSigner: KeySigner;
  /** Seals and a person, each with its own key. */
  sealRsa: Party;
  sealEc: Party;
  person: Party;
  tsa: TimeStampAuthority;
  timestamper: Timestamper;
  /** A current CRL of the issuing CA (nothing revoked). */
  crl: Buffer;
  rootCrl: Buffer;
  issue(options: {
    spec?: KeySpec;
    commonName: string;
    notBefore?: Date;
    notAfter?: Date;
    person?: boolean;
  }): Promise<Party>;
}

let pki: Promise<TestPki> | null = null;

/** One PKI per test file (keys take a moment to generate). */
export function testPki(): Promise<TestPki> {
  pki ??= (async () => {
    const rootSigner = createKeySigner(await generateKey('RSA-2048'));
    const root = await createRootCa({
      signer: rootSigner,
      subject: { commonName: 'Sigil Test Root CA', organization: 'Sigil Test', country: 'CN' },
    });
    const caSigner = createKeySigner(await generateKey('ECDSA-P256'));
    const ca = await createIssuingCa({
      issuer: { signer: rootSigner, certificate: root },
      subject: { commonName: 'Acme Group Issuing CA', organization: 'Acme Group' },
      publicKey: caSigner.publicKey,
    });
    const issue: TestPki['issue'] = async ({ spec = 'RSA-2048', commonName, notBefore, notAfter, person }) => {
      const key = await generateKey(spec);
      const publicKey = createKeySigner(key).publicKey;
      const input = { issuer: { signer: caSigner, certificate: ca }, publicKey, notBefore, notAfter };
      const cert = person
        ? await issuePersonCertificate({
            ...input,
            subject: { commonName, organization: 'Acme Ltd', email: 'signer@example.com' },
          })
        : await issueSealCertificate({
            ...input,
            subject: { commonName, organization: 'Acme Ltd 甲公司', organizationIdentifier: '91310000MA1FL0000X' },
          });
      return { key, signer: withCertificate(createKeySigner(key), cert, [ca, root]) };
    };
    const tsaKey = await generateKey('RSA-2048');
    const tsaCert = await issueTsaCertificate({
      issuer: { signer: caSigner, certificate: ca },
      subject: { commonName: 'Sigil Test TSA', organization: 'Sigil Test' },
      publicKey: createKeySigner(tsaKey).publicKey,
    });
    const tsa: TimeStampAuthority = { signer: withCertificate(createKeySigner(tsaKey), tsaCert, [ca, root]) };
    return {
      root,
      rootSigner,
      ca,
      caSigner,
      sealRsa: await issue({ commonName: '合同专用章 Contract Seal' }),
      sealEc: await issue({ spec: 'ECDSA-P256', commonName: '公章 Official Seal' }),
      person: await issue({ spec: 'RSA-3072', commonName: 'Zhang San', person: true }),
      tsa,
      timestamper: createInProcessTimestamper(tsa),
      crl: await createCrl({ issuer: { signer: caSigner, certificate: ca }, revoked: [], crlNumber: 1 }),
      rootCrl: await createCrl({ issuer: { signer: rootSigner, certificate: root }, revoked: [], crlNumber: 1 }),
      issue,
    };
  })();
  return pki;
}

/** An NSS database trusting the test root, for pdfsig. */
export function nssDatabase(dir: string, root: Buffer): string {
  requireTool('certutil');
  const db = join(dir, 'nss');
  run('mkdir', ['-p', db]);
  run('certutil', ['-N', '-d', `sql:${db}`, '--empty-password']);
  const pem = join(dir, 'root.pem');
  writeFileSync(pem, derToPem(root));
  run('certutil', ['-A', '-d', `sql:${db}`, '-n', 'sigil-test-root', '-t', 'CT,C,C', '-i', pem]);
  return `sql:${db}`;
}

export interface PdfsigSignature {
  field: string;
  signatureValid: boolean;
  certificateTrusted: boolean;
  totalDocumentSigned: boolean;
  type: string;
  raw: string;
}

/** Runs pdfsig and reads its per-signature verdicts. */
export function pdfsig(file: string, nssdir: string): PdfsigSignature[] {
  requireTool('pdfsig');
  const { out } = run('pdfsig', ['-nssdir', nssdir, file], { allowFailure: true });
  return out
    .split(/^Signature #\d+:$/m)
    .slice(1)
    .map((raw) => ({
      field: /Signature Field Name: (.*)/.exec(raw)?.[1]?.trim() ?? '',
      signatureValid: /Signature Validation: Signature is Valid\./.test(raw),
      certificateTrusted: /Certificate Validation: Certificate is Trusted\./.test(raw),
      totalDocumentSigned: /Total document signed/.test(raw),
      type: /Signature Type: (.*)/.exec(raw)?.[1]?.trim() ?? '',
      raw,
    }));
}

/** A round red seal with a transparent background, drawn pixel by pixel. */
export function sealPng(size = 160): Buffer {
  const png = new PNG({ width: size, height: size });
  const c = size / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const r = Math.hypot(x + 0.5 - c, y + 0.5 - c);
      const ring = r > c * 0.82 && r < c * 0.95;
      const angle = Math.atan2(y - c, x - c);
      const star = r < c * 0.35 * (0.6 + 0.4 * Math.cos(5 * angle));
      const i = (y * size + x) * 4;
      const on = ring || star;
      png.data[i] = 220;
      png.data[i + 1] = 20;
      png.data[i + 2] = 30;
      png.data[i + 3] = on ? 230 : 0;
    }
  }
  return PNG.sync.write(png);
}

export { execFileSync };
