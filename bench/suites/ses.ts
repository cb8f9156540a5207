// National cryptography: GB/T 38540 seal signatures (SES_Signature: SM3 of the data, SM2 over
// TBS_Sign with the whole seal inside, the seal checked first) made and verified per second by
// Sigil on one core, against the machine's SM2 limit measured by `openssl speed sm2` (also one
// core). The goal is 30 % of openssl's SM2 signatures per second.
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createIssuingCa, createRootCa, generateKey, issuePersonCertificate } from '../../src/signing/ca.js';
import { issueSealFile } from '../../src/signing/ses/seal.js';
import { signSesSignature, verifySesSignature } from '../../src/signing/ses/signature.js';
import { createKeySigner, withCertificate } from '../../src/signing/signer.js';
import { sealPng } from '../../test/signing/support.js';
import type { Result } from '../report.js';
import type { Suite, SuiteContext } from '../suite.js';

const SECONDS = boundedNumber(process.env.BENCH_SES_SECONDS, 3, 0.5, 60);
const SHARE_GOAL = 30; // % of openssl's SM2 signatures per second

function boundedNumber(raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new Error(`expected a number from ${min} to ${max}, got ${raw}`);
  return n;
}

export const sesSuite: Suite = {
  name: 'ses',
  title: 'GB/T 38540 seal signatures (SM2/SM3): Sigil per second against openssl speed sm2',
  run: sesBench,
};

/** Operations per second, one at a time (one core, as openssl speed runs), after a second of warm-up. */
async function rate(task: () => Promise<unknown> | unknown): Promise<number> {
  const warmUntil = performance.now() + 1000;
  while (performance.now() < warmUntil) await task();
  let done = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  while (performance.now() < deadline) {
    await task();
    done++;
  }
  return done / ((performance.now() - started) / 1000);
}

async function sesBench(ctx: SuiteContext): Promise<Result[]> {
  ctx.log('making an SM2 PKI, a seal and a signer');
  const rootKey = createKeySigner(await generateKey('SM2'));
  const root = await createRootCa({ signer: rootKey, subject: { commonName: 'Bench SM2 Root' } });
  const caKey = createKeySigner(await generateKey('SM2'));
  const ca = await createIssuingCa({
    issuer: { signer: rootKey, certificate: root },
    subject: { commonName: 'Bench SM2 CA', organization: 'Bench Group' },
    publicKey: caKey.publicKey,
  });
  const issue = async (commonName: string) => {
    const key = createKeySigner(await generateKey('SM2'));
    const cert = await issuePersonCertificate({
      issuer: { signer: caKey, certificate: ca },
      subject: { commonName, organization: 'Bench Ltd' },
      publicKey: key.publicKey,
    });
    return withCertificate(key, cert, [ca, root]);
  };
  const maker = await issue('Bench seal maker');
  const signer = await issue('Bench signer');
  const seal = await issueSealFile({
    maker,
    type: 1,
    name: 'Bench Ltd 合同专用章',
    signers: [signer.certificate],
    validStart: new Date(Date.now() - 86_400_000),
    validEnd: new Date(Date.now() + 30 * 86_400_000),
    picture: { type: 'png', data: sealPng(), widthMm: 40, heightMm: 40 },
  });
  // An OFD Signature.xml is about 1–3 KB.
  const data = Buffer.alloc(2048, '<ofd:Reference FileRef="/Doc_0/Pages/Page_0/Content.xml"/>');
  const propertyInfo = '/Doc_0/Signs/Sign_0/Signature.xml';
  const sign = () => signSesSignature({ seal, signer, data, propertyInfo });
  const sample = await sign();
  if (!verifySesSignature(sample, { data }).valid) throw new Error('the benchmark signature does not verify');

  const results: Result[] = [];
  ctx.log('Sigil: seal signatures');
  const signs = await rate(sign);
  results.push({ metric: 'SES_Signature made (one core)', subject: 'Sigil', value: signs, unit: 'signs/s' });
  ctx.log('Sigil: seal signatures verified');
  const verifies = await rate(() => verifySesSignature(sample, { data }));
  results.push({
    metric: 'SES_Signature verified, §7.3 without chains (one core)',
    subject: 'Sigil',
    value: verifies,
    unit: 'verifications/s',
  });

  ctx.log('the limit: openssl speed sm2');
  const speed = spawnSync('openssl', ['speed', '-seconds', String(Math.max(1, Math.round(SECONDS))), 'sm2'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  const match = /SM2 \(CurveSM2\)\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)\s+([\d.]+)/.exec(speed.stdout ?? '');
  const opensslSigns = speed.status === 0 && match ? Number(match[1]) : null;
  const opensslVerifies = speed.status === 0 && match ? Number(match[2]) : null;
  results.push(
    { metric: 'SM2 signatures (one core)', subject: 'openssl speed', value: opensslSigns, unit: 'signs/s' },
    {
      metric: 'SM2 verifications (one core)',
      subject: 'openssl speed',
      value: opensslVerifies,
      unit: 'verifications/s',
    },
    {
      metric: 'Sigil seal signatures as a share of openssl SM2 signatures',
      subject: 'Sigil',
      value: opensslSigns ? (100 * signs) / opensslSigns : null,
      unit: '%',
      goal: { op: '>=', value: SHARE_GOAL },
    },
  );
  if (opensslSigns === null) ctx.note(`openssl speed sm2 gave no figure: ${(speed.stderr ?? '').slice(0, 200)}`);
  ctx.note(
    `A seal signature is SM3 of ${data.length} bytes, the seal (${seal.length} bytes) checked (its maker signature once per seal, then remembered), TBS_Sign encoded and SM2-signed with the standard ID through sm-crypto-v2; openssl speed sm2 signs a digest only.`,
  );
  return results;
}
