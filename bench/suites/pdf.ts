// The signing engine against its peers on the same files and the same RSA-2048 key: documents
// signed per second at B-B and B-T (built-in TSA) by Sigil, @signpdf/signpdf (plain placeholder)
// and @libpdf/core; verifications per second by Sigil and pdfsig; and the machine's limit
// (openssl speed: RSA-2048 signatures and SHA-256 bytes per second).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PDF, P12Signer as LibpdfP12Signer } from '@libpdf/core';
import { plainAddPlaceholder } from '@signpdf/placeholder-plain';
import { P12Signer as SignpdfP12Signer } from '@signpdf/signer-p12';
import { SignPdf } from '@signpdf/signpdf';
import {
  createIssuingCa,
  createRootCa,
  generateKey,
  issueSealCertificate,
  issueTsaCertificate,
} from '../../src/signing/ca.js';
import { signPdf, type PadesLevel } from '../../src/signing/pades.js';
import { signerFromPkcs12, writePkcs12 } from '../../src/signing/pkcs12.js';
import { createKeySigner, withCertificate } from '../../src/signing/signer.js';
import { createInProcessTimestamper } from '../../src/signing/tsa.js';
import { verifyPdf } from '../../src/signing/verify.js';
import { derToPem } from '../../src/signing/x509.js';
import { buildPdf } from '../../test/signing/pdf-fixtures.js';
import type { Goal, Result } from '../report.js';
import type { Suite, SuiteContext } from '../suite.js';

const SECONDS = boundedNumber(process.env.BENCH_PDF_SECONDS, 3, 0.5, 60);
/** Documents in flight at once, the same for every library (a server signs several at a time). */
const CONCURRENCY = 4;
const RSA_SHARE_GOAL = 25; // % of openssl's RSA-2048 signatures per second, for the small file

function boundedNumber(raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`expected a number from ${min} to ${max}, got ${raw}`);
  return n;
}

export const pdfSuite: Suite = {
  name: 'pdf',
  title: 'PDF signing and verification: Sigil vs @signpdf/signpdf, @libpdf/core and pdfsig, against the RSA limit',
  run: pdfBench,
};

type Subject = 'Sigil' | '@signpdf/signpdf' | '@libpdf/core' | 'pdfsig' | 'openssl speed';
type Sign = (pdf: Buffer) => Promise<Buffer>;

/**
 * A full garbage collection, so one library's leftovers do not tax the next figure. Every figure
 * runs in this one process: without it, the old space the peers leave behind (about 90 MB) is
 * marked again and again while Sigil's 5 MB outputs pile up as external memory, and a figure
 * depends on what ran before it (see bench/README.md, "B-B and B-T on the 5 MB file").
 */
v8.setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** CPU milliseconds per operation of the last `rate` (this process: main thread and libuv's pool). */
let lastCpuMsPerOp = 0;

/** Runs `task` with CONCURRENCY in flight for SECONDS after a collection and a warm-up; returns operations per second. */
async function rate(task: () => Promise<unknown>, seconds = SECONDS): Promise<number> {
  collectGarbage();
  // A second of warm-up, so the figure is of a process that has signed this file before.
  const warmUntil = performance.now() + 1000;
  while (performance.now() < warmUntil) await task();
  let done = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      await task();
      done++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const used = process.cpuUsage(cpu);
  lastCpuMsPerOp = (used.user + used.system) / 1000 / Math.max(done, 1);
  return done / ((performance.now() - started) / 1000);
}

function opensslSpeed(args: string[]): string {
  const result = spawnSync('openssl', ['speed', ...args], { encoding: 'utf8', timeout: 120_000 });
  if (result.status !== 0) throw new Error(`openssl speed ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

async function pdfBench(ctx: SuiteContext): Promise<Result[]> {
  const dir = ctx.resources.dir(mkdtempSync(join(tmpdir(), 'sigil-bench-pdf-')));
  const results: Result[] = [];

  ctx.log('making the PKI, the key and the files');
  const rootSigner = createKeySigner(await generateKey('RSA-2048'));
  const root = await createRootCa({ signer: rootSigner, subject: { commonName: 'Bench Root' } });
  const caSigner = createKeySigner(await generateKey('RSA-2048'));
  const ca = await createIssuingCa({
    issuer: { signer: rootSigner, certificate: root },
    subject: { commonName: 'Bench CA' },
    publicKey: caSigner.publicKey,
  });
  const sealKey = await generateKey('RSA-2048');
  const sealCert = await issueSealCertificate({
    issuer: { signer: caSigner, certificate: ca },
    subject: { commonName: 'Bench Seal', organization: 'Bench Ltd' },
    publicKey: createKeySigner(sealKey).publicKey,
  });
  const tsaKey = await generateKey('RSA-2048');
  const tsaCert = await issueTsaCertificate({
    issuer: { signer: caSigner, certificate: ca },
    subject: { commonName: 'Bench TSA' },
    publicKey: createKeySigner(tsaKey).publicKey,
  });
  const timestamper = createInProcessTimestamper({ signer: withCertificate(createKeySigner(tsaKey), tsaCert, [ca]) });
  // One key for everyone, handed over as the same PKCS#12 file. @signpdf's node-forge reads
  // only the legacy PKCS#12 ciphers, so the file is also written with openssl's -legacy set.
  const password = 'bench';
  const p12 = writePkcs12({ key: sealKey, certificate: sealCert, chain: [ca], password });
  const p12Legacy = legacyP12(
    dir,
    sealKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    [sealCert, ca],
    password,
  );
  const sigilSigner = await signerFromPkcs12(p12, password);
  const libpdfSigner = await LibpdfP12Signer.create(p12Legacy, password);
  const signpdf = new SignPdf();
  const libpdfTsa = {
    timestamp: async (digest: Uint8Array, algorithm: string) =>
      timestamper.timestamp(
        Buffer.from(digest),
        algorithm === 'SHA-384' ? 'SHA-384' : algorithm === 'SHA-512' ? 'SHA-512' : 'SHA-256',
      ),
  };

  const files = [
    { label: '1-page ~100 KB', pdf: buildPdf({ pages: 1, targetBytes: 100_000, seed: 11 }) },
    { label: '50-page ~5 MB', pdf: buildPdf({ pages: 50, targetBytes: 5_000_000, seed: 12 }) },
  ];
  ctx.note(
    `Files: ${files.map((f) => `${f.label} = ${(f.pdf.length / 1024).toFixed(0)} KB`).join(', ')} (generated, classic xref). Key: RSA-2048, the same PKCS#12 for every library. ${CONCURRENCY} documents in flight, ${SECONDS} s per figure after a warm-up; one Node process, ${process.version}.`,
  );

  const signers: Record<'Sigil' | '@signpdf/signpdf' | '@libpdf/core', Partial<Record<PadesLevel, Sign>>> = {
    Sigil: {
      'B-B': (pdf) => signPdf(pdf, { signer: sigilSigner, level: 'B-B' }),
      'B-T': (pdf) => signPdf(pdf, { signer: sigilSigner, level: 'B-T', timestamper }),
    },
    '@signpdf/signpdf': {
      // Its P12Signer consumes the PKCS#12 buffer on first use (node-forge reads it in place), so
      // a signer is made per document, as a caller of the library has to.
      'B-B': async (pdf) =>
        Buffer.from(
          await signpdf.sign(
            plainAddPlaceholder({
              pdfBuffer: pdf,
              reason: 'bench',
              contactInfo: '',
              name: 'Bench Seal',
              location: '',
              subFilter: 'ETSI.CAdES.detached',
            }),
            new SignpdfP12Signer(p12Legacy, { passphrase: password }),
          ),
        ),
    },
    '@libpdf/core': {
      'B-B': async (pdf) =>
        Buffer.from((await (await PDF.load(pdf)).sign({ signer: libpdfSigner, level: 'B-B' })).bytes),
      'B-T': async (pdf) =>
        Buffer.from(
          (await (await PDF.load(pdf)).sign({ signer: libpdfSigner, level: 'B-T', timestampAuthority: libpdfTsa }))
            .bytes,
        ),
    },
  };

  const goals = new Map<string, Result[]>();
  // Sigil's CPU per document beside each signing rate: it does not depend on what else the machine runs.
  const cpuRows: Result[] = [];
  for (const file of files) {
    for (const level of ['B-B', 'B-T'] as const) {
      const metric = `sign ${level}${level === 'B-T' ? ' (built-in TSA)' : ''}, ${file.label}`;
      const row: Result[] = [];
      for (const [subject, byLevel] of Object.entries(signers) as Array<[Subject, Partial<Record<PadesLevel, Sign>>]>) {
        const sign = byLevel[level];
        if (!sign) {
          row.push({ metric, subject, value: null, unit: 'docs/s', note: 'no B-T support' });
          continue;
        }
        ctx.log(`${metric}: ${subject}`);
        try {
          // A figure only counts if the output verifies.
          const sample = await sign(file.pdf);
          const report = await verifyPdf(sample, { trustAnchors: [root] });
          const ok =
            report.signatures.length === 1 &&
            report.signatures[0]!.digestMatches &&
            report.signatures[0]!.signatureVerified;
          const value = await rate(() => sign(file.pdf));
          if (subject === 'Sigil')
            cpuRows.push({ metric: `${metric}, CPU`, subject, value: lastCpuMsPerOp, unit: 'ms/doc' });
          row.push({
            metric,
            subject,
            value,
            unit: 'docs/s',
            ...(ok ? {} : { invalid: true, note: 'output does not verify' }),
          });
        } catch (error) {
          row.push({
            metric,
            subject,
            value: null,
            unit: 'docs/s',
            invalid: true,
            note: `failed: ${error instanceof Error ? error.message : String(error)}`,
          });
        }
      }
      goals.set(metric, row);
      results.push(...row);
    }
  }
  // Goal: Sigil ahead of both peers on every signing figure.
  for (const row of goals.values()) {
    const sigil = row.find((r) => r.subject === 'Sigil');
    const best = Math.max(...row.filter((r) => r.subject !== 'Sigil' && r.value !== null).map((r) => r.value!));
    if (sigil && Number.isFinite(best)) sigil.goal = { op: '>=', value: Math.round(best * 10) / 10 } satisfies Goal;
  }
  results.push(...cpuRows);

  ctx.log('verification: Sigil and pdfsig');
  const nss = join(dir, 'nss');
  const pdfsigAvailable =
    spawnSync('sh', ['-c', 'command -v pdfsig && command -v certutil'], { encoding: 'utf8' }).status === 0;
  if (pdfsigAvailable) {
    spawnSync('mkdir', ['-p', nss]);
    spawnSync('certutil', ['-N', '-d', `sql:${nss}`, '--empty-password']);
    writeFileSync(join(dir, 'root.pem'), derToPem(root));
    spawnSync('certutil', ['-A', '-d', `sql:${nss}`, '-n', 'root', '-t', 'CT,C,C', '-i', join(dir, 'root.pem')]);
  } else ctx.note('pdfsig not measured: apt-get install poppler-utils libnss3-tools');
  for (const file of files) {
    const metric = `verify, ${file.label}`;
    const signed = await signPdf(file.pdf, { signer: sigilSigner, level: 'B-T', timestamper });
    const path = join(dir, `signed-${file.pdf.length}.pdf`);
    writeFileSync(path, signed);
    const sigilRate = await rate(() => verifyPdf(signed, { trustAnchors: [root] }));
    const row: Result[] = [{ metric, subject: 'Sigil', value: sigilRate, unit: 'verifications/s' }];
    if (pdfsigAvailable) {
      // pdfsig is a process per file; run sequentially, as a script or CI would.
      let done = 0;
      const started = performance.now();
      while (performance.now() - started < SECONDS * 1000) {
        const run = spawnSync('pdfsig', ['-nssdir', `sql:${nss}`, path], { encoding: 'utf8' });
        if (!/Signature is Valid/.test(run.stdout))
          throw new Error(`pdfsig did not validate the bench file: ${run.stdout}`);
        done++;
      }
      const value = done / ((performance.now() - started) / 1000);
      row.push({ metric, subject: 'pdfsig', value, unit: 'verifications/s' });
      row[0]!.goal = { op: '>=', value: Math.round(value * 10) / 10 };
    }
    results.push(...row);
  }

  ctx.log('the limit: openssl speed');
  const rsa = /rsa\s+2048 bits\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)/.exec(
    opensslSpeed(['-seconds', String(Math.max(1, Math.round(SECONDS))), 'rsa2048']),
  );
  const rsaPerSecond = rsa ? Number(rsa[1]) : null;
  results.push({
    metric: 'RSA-2048 signatures (one core)',
    subject: 'openssl speed',
    value: rsaPerSecond,
    unit: 'signs/s',
  });
  const sha = /sha256\s+([\d.]+)k/.exec(
    opensslSpeed(['-seconds', String(Math.max(1, Math.round(SECONDS))), '-bytes', '16384', 'sha256']),
  );
  results.push({
    metric: 'SHA-256, 16 KB blocks (one core)',
    subject: 'openssl speed',
    value: sha ? (Number(sha[1]) * 1000) / 1e6 : null,
    unit: 'MB/s',
  });
  const small = goals.get(`sign B-B, ${files[0]!.label}`)?.find((r) => r.subject === 'Sigil');
  results.push({
    metric: `Sigil B-B signing, ${files[0]!.label}, as a share of the RSA limit`,
    subject: 'Sigil',
    value: small?.value && rsaPerSecond ? (100 * small.value) / rsaPerSecond : null,
    unit: '%',
    goal: { op: '>=', value: RSA_SHARE_GOAL },
  });
  ctx.note(
    '@signpdf/signpdf has no time-stamp support (its CMS also lacks signing-certificate-v2), so it has no B-T figures; its P12Signer works once, so it is made per document.',
  );
  ctx.note(
    'Verification: Sigil checks digest, CMS signature, ESS binding, chain to the root, the time-stamp and changes after signing; pdfsig checks the CMS and the chain through NSS, in a process per file.',
  );
  return results;
}

/** A PKCS#12 with PBE-SHA1-3DES and a SHA-1 MAC, which node-forge (inside @signpdf and @libpdf) can read. */
function legacyP12(dir: string, keyPem: string, certs: Buffer[], password: string): Buffer {
  const key = join(dir, 'key.pem');
  const chain = join(dir, 'chain.pem');
  const out = join(dir, 'legacy.p12');
  writeFileSync(key, keyPem, { mode: 0o600 });
  writeFileSync(chain, certs.map((c) => derToPem(c)).join(''));
  const result = spawnSync(
    'openssl',
    [
      'pkcs12',
      '-export',
      '-inkey',
      key,
      '-in',
      chain,
      '-out',
      out,
      '-passout',
      `pass:${password}`,
      '-keypbe',
      'PBE-SHA1-3DES',
      '-certpbe',
      'PBE-SHA1-3DES',
      '-macalg',
      'sha1',
    ],
    { encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`openssl pkcs12 failed: ${result.stderr}`);
  return readFileSync(out);
}
