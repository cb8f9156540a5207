// `sigil ofd verify|sign|text` and `sigil seal esl inspect|issue`, each run through the CLI's own
// entry (`main`, what bin/sigil.js calls) with stdout, stderr and the exit status captured: exit 0
// valid, 1 a negative verdict, 2 bad input with a message and no stack. They run in this process
// (a process each cost five seconds of start-up); test/built.test.ts runs the same commands from
// dist/ as processes of their own. ofdrw's files (another producer) verify or are refused as
// test/fixtures/ofd/README.md says; our own seal and signature are made from keys and
// certificates openssl made, and checked by openssl (the maker's SM2 signature over the seal),
// BouncyCastle (the seal signature over Signature.xml) and openssl's SM3 (a changed page).
import { closeSync, ftruncateSync, openSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import { renderTemplateOfd } from '../src/ofd/index.js';
import { seedTemplates } from '../src/templates/index.js';
import {
  bouncyCastleSesCheck,
  FIXTURES,
  fixture,
  opensslSm3,
  pythonUnzip,
  pythonZip,
  requireTool,
  run,
  sealPng,
  tempDir,
} from './ofd/support.js';
import { opensslSm2Verifies } from './signing/sm2-support.js';
import { OpensslSm2Pki, SM2_SIGNER_EXT, type Sm2Cert } from './signing/sm2-pki.js';

const fx = (name: string) => `${FIXTURES}/${name}`;

interface CliResult {
  status: number | null;
  out: string;
  err: string;
}

/** `sigil …` through `main`, with what it writes to stdout and stderr and its exit status. */
async function sigil(...args: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const capture =
    (sink: string[]) =>
    (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      sink.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const done = rest.find((r): r is () => void => typeof r === 'function');
      done?.();
      return true;
    };
  const saved = { out: process.stdout.write, err: process.stderr.write, exitCode: process.exitCode };
  process.stdout.write = capture(out) as typeof process.stdout.write;
  process.stderr.write = capture(err) as typeof process.stderr.write;
  process.exitCode = undefined;
  try {
    const status = await main(['node', 'sigil', ...args]);
    return { status, out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    process.exitCode = saved.exitCode;
  }
}

/** A message for a person (after `sigil:`, or commander's `error:` for an option), no stack. */
function expectProblem(result: CliResult, message: RegExp): void {
  expect(result.status, result.err).toBe(2);
  expect(result.err).toMatch(/^(sigil|error): /);
  expect(result.err).toMatch(message);
  expect(result.err).not.toMatch(/\n\s+at /);
}

interface JsonReport {
  valid: boolean;
  signatures: Array<{
    valid: boolean;
    seal: { name: string; validStart: string; validEnd: string } | null;
    signer: { subject: string } | null;
    signedAt: string | null;
    chain: string;
    references: Array<{ path: string; status: string }>;
    unprotected: string[];
    stamps: Array<{ page: number | null; boundary: number[]; clip?: number[] }>;
    problems: string[];
  }>;
}

const tmp = tempDir('sigil-cli-ofd-');
afterAll(() => tmp.remove());

describe('sigil ofd verify on files another producer signed (ofdrw)', () => {
  beforeAll(async () => {
    requireTool('openssl');
    requireTool('python3');
  });

  it('accepts v4signed.ofd: every digest intact, nothing unprotected, its seal, signer and time', async () => {
    const result = await sigil('ofd', 'verify', fx('v4signed.ofd'), '--json');
    expect(result.err).toBe('');
    expect(result.status).toBe(0);
    const report = JSON.parse(result.out) as JsonReport;
    expect(report.valid).toBe(true);
    const [s, ...more] = report.signatures;
    expect(more).toEqual([]);
    expect(s!.seal?.name).toBe('测试全国统一发票监制章国家税务总局重庆市税务局');
    expect(s!.signer?.subject).toMatch(/CN=全国统一发票监制章国家税务总局重庆市税务局/);
    expect(s!.signedAt).toBe('2020-10-10T07:11:20.000Z');
    expect(s!.chain).toBe('not-checked');
    expect(s!.references).toHaveLength(13);
    expect(s!.references.every((r) => r.status === 'intact')).toBe(true);
    expect(s!.unprotected).toEqual([]);
    expect(s!.stamps).toEqual([{ page: 1, pageRef: expect.any(String), boundary: [90, 8, 30, 20] }]);
  }, 150_000);

  it('refuses SESV4SignDoc.ofd: its digests hold but its seal had expired when ofdrw signed', async () => {
    const result = await sigil('ofd', 'verify', fx('SESV4SignDoc.ofd'));
    expect(result.status).toBe(1);
    expect(result.out).toContain('NOT VALID — 1 signature');
    expect(result.out).toContain('seal: OFD R&W 测试用印章 (v4');
    expect(result.out).toContain('references (SM3): 5 intact, 0 changed, 0 missing');
    expect(result.out).toMatch(/problem: .*the seal is not valid at 2026-08-04T02:08:09\.000Z/);
  }, 150_000);

  it('refuses v4signed.ofd once one byte of a protected file changes, as openssl’s SM3 tells', async () => {
    const target = 'Doc_0/Tpls/Tpl_0/Content.xml';
    const altered = pythonZip(tmp, { input: fixture('v4signed.ofd'), flip: { [target]: 60 } });
    const result = await sigil('ofd', 'verify', tmp.file('altered.ofd', altered));
    expect(result.status).toBe(1);
    expect(result.out).toContain('NOT VALID');
    expect(result.out).toContain('12 intact, 1 changed, 0 missing');
    expect(result.out).toContain(`changed: /${target}`);
    expect(result.out).toContain(`problem: /${target} was changed after signing (its digest differs)`);
    // openssl: the file's SM3 no longer is the CheckValue Signature.xml holds; the original's is.
    const files = pythonUnzip(tmp, altered);
    const xml = files.get('Doc_0/Signs/Sign_0/Signature.xml')!.toString();
    const checkValue = new RegExp(`FileRef="/${target}"><ofd:CheckValue>([^<]+)<`, 'i').exec(xml)![1];
    expect(opensslSm3(tmp, files.get(target)!)).not.toBe(checkValue);
    expect(opensslSm3(tmp, pythonUnzip(tmp, fixture('v4signed.ofd')).get(target)!)).toBe(checkValue);
  }, 150_000);

  it('exits 1 for an OFD without signatures and 2, naming the file, for one that is not an OFD or absent', async () => {
    const unsigned = await sigil('ofd', 'verify', fx('helloworld.ofd'));
    expect(unsigned.status).toBe(1);
    expect(unsigned.out).toContain('helloworld.ofd: no signatures');
    expectProblem(await sigil('ofd', 'verify', fx('UserV4.esl')), /UserV4\.esl: the file is not a zip package/);
  }, 150_000);

  it('refuses files over the limits by their size, before reading them, and a trust file that is no certificate', async () => {
    // Sparse files: their size is what stat says, and nothing is written to disk.
    const sparse = (name: string, bytes: number) => {
      const path = tmp.file(name);
      const fd = openSync(path, 'w');
      ftruncateSync(fd, bytes);
      closeSync(fd);
      return path;
    };
    expectProblem(
      await sigil('ofd', 'verify', sparse('huge.ofd', 300 * 1024 * 1024)),
      /The OFD file .*huge\.ofd has 314572800 bytes; at most 268435456 are read/,
    );
    expectProblem(
      await sigil('seal', 'esl', 'inspect', sparse('huge.esl', 5 * 1024 * 1024)),
      /The seal file .*huge\.esl has 5242880 bytes; at most 4194304 are read/,
    );
    expectProblem(
      await sigil('ofd', 'verify', fx('v4signed.ofd'), '--trust', fx('README.md')),
      /The trusted root file .*README\.md is not a certificate/,
    );
  }, 150_000);

  it('prints the text of a page', async () => {
    const result = await sigil('ofd', 'text', fx('keyword.ofd'), '--page', '1');
    expect(result.status).toBe(0);
    expect(result.out).toContain('中国建设银行股份有限公司泰安分行');
    expectProblem(await sigil('ofd', 'text', fx('missing.ofd')), /Cannot read the OFD file .*missing\.ofd: ENOENT/);
  }, 150_000);
});

describe('sigil seal esl and sigil ofd sign with keys and certificates made by openssl', () => {
  let pki: OpensslSm2Pki;
  let root: Sm2Cert;
  let maker: Sm2Cert;
  let signer: Sm2Cert;
  let contract: string;
  let bcCheck: ReturnType<typeof bouncyCastleSesCheck>;
  let issued: CliResult;
  let signed: CliResult;
  const esl = () => tmp.file('seal.esl');

  beforeAll(async () => {
    requireTool('openssl');
    bcCheck = bouncyCastleSesCheck(tmp);
    pki = new OpensslSm2Pki(tmp.dir);
    root = pki.root('root', '/CN=CLI SM2 Test Root/C=CN');
    maker = pki.issue('maker', {
      issuer: root,
      subject: '/CN=测试集团电子印章制作/O=测试集团',
      extensions: SM2_SIGNER_EXT,
    });
    signer = pki.issue('signer', {
      issuer: root,
      subject: '/CN=测试有限公司合同专用章/O=测试有限公司',
      extensions: SM2_SIGNER_EXT,
    });
    const seed = seedTemplates.find((s) => s.source.title === '采购合同')!;
    contract = tmp.file('contract.ofd', Buffer.from((await renderTemplateOfd(seed.source, seed.example)).ofd));
    tmp.file('seal.png', sealPng());
    // The seal and the signed file are made here, so that each test can run on its own (-t); the
    // tests check them.
    issued = await sigil(
      'seal',
      'esl',
      'issue',
      '--maker-cert',
      maker.certFile,
      '--maker-key',
      maker.keyFile,
      '--signer-cert',
      signer.certFile,
      '--name',
      '测试有限公司合同专用章',
      '--image',
      tmp.file('seal.png'),
      '--size-mm',
      '40',
      '--valid-from',
      new Date(Date.now() - 86_400_000).toISOString(),
      '--valid-to',
      new Date(Date.now() + 180 * 86_400_000).toISOString().slice(0, 10),
      '--id',
      'CLI-TEST-SEAL-0001',
      '--out',
      esl(),
    );
    signed = await sigil(
      'ofd',
      'sign',
      contract,
      tmp.file('signed.ofd'),
      '--seal',
      esl(),
      '--key',
      signer.keyFile,
      '--cert',
      signer.certFile,
      '--page',
      '3',
      '--at',
      '120,200',
      '--cross-page',
    );
  }, 300_000);

  it('issues a seal that inspects as valid with a trusted chain; openssl verifies its maker signature', async () => {
    expect(issued.err).toBe('');
    expect(issued.status).toBe(0);
    expect(issued.out).toContain('v4 seal “测试有限公司合同专用章” for 1 signer');

    const inspected = await sigil('seal', 'esl', 'inspect', esl(), '--trust', root.certFile, '--json');
    expect(inspected.status).toBe(0);
    const report = JSON.parse(inspected.out) as {
      valid: boolean;
      seal: { name: string; id: string; maker: string; signers: Array<{ subject: string }>; picture: unknown };
      checks: { chain: string; makerSignature: boolean };
    };
    expect(report).toMatchObject({
      valid: true,
      seal: {
        name: '测试有限公司合同专用章',
        id: 'CLI-TEST-SEAL-0001',
        picture: { type: 'png', widthMm: 40, heightMm: 40 },
      },
      checks: { chain: 'trusted', makerSignature: true },
    });
    expect(report.seal.maker).toContain('测试集团电子印章制作');
    expect(report.seal.signers.map((s) => s.subject)).toEqual([expect.stringContaining('测试有限公司合同专用章')]);

    // openssl: the seal is SEQUENCE { SES_SealInfo, cert, algorithm, BIT STRING signature }; the
    // maker's key (from its openssl-made certificate) verifies the signature over SES_SealInfo.
    const der = readFileSync(esl());
    const top = asn1Elements(der, 1);
    const info = der.subarray(top[0]!.offset, top[0]!.offset + top[0]!.headerLength + top[0]!.length);
    const value = der.subarray(
      top[3]!.offset + top[3]!.headerLength + 1,
      top[3]!.offset + top[3]!.headerLength + top[3]!.length,
    );
    expect(opensslSm2Verifies(tmp, maker.der, info, value)).toBe(true);
  }, 300_000);

  it('refuses the seal once a byte of its signed information changes, as openssl does', async () => {
    const der = readFileSync(esl());
    const at = der.indexOf('CLI-TEST-SEAL-0001');
    const changed = Buffer.from(der);
    changed[at + 17] = '2'.charCodeAt(0);
    const result = await sigil('seal', 'esl', 'inspect', tmp.file('changed.esl', changed));
    expect(result.status).toBe(1);
    expect(result.out).toContain('NOT VALID');
    expect(result.out).toMatch(/problem: the seal maker's signature does not verify/);
    const top = asn1Elements(changed, 1);
    const info = changed.subarray(top[0]!.offset, top[0]!.offset + top[0]!.headerLength + top[0]!.length);
    const value = changed.subarray(
      top[3]!.offset + top[3]!.headerLength + 1,
      top[3]!.offset + top[3]!.headerLength + top[3]!.length,
    );
    expect(opensslSm2Verifies(tmp, maker.der, info, value)).toBe(false);
    expectProblem(await sigil('seal', 'esl', 'inspect', contract), /contract\.ofd is not an electronic seal/);
  }, 300_000);

  it('signs a contract with a stamp and a cross-page seal; verify and BouncyCastle accept it; another root does not', async () => {
    const signedPath = tmp.file('signed.ofd');
    expect(signed.err).toBe('');
    expect(signed.status).toBe(0);
    expect(signed.out).toContain('a stamp on page 3 and a cross-page seal');

    const verified = await sigil('ofd', 'verify', signedPath, '--trust', root.certFile, '--json');
    expect(verified.status).toBe(0);
    const report = JSON.parse(verified.out) as JsonReport;
    const [s] = report.signatures;
    expect(report.valid).toBe(true);
    expect(s!.problems).toEqual([]);
    expect(s!.chain).toBe('trusted');
    expect(s!.seal?.name).toBe('测试有限公司合同专用章');
    expect(s!.signer?.subject).toContain('测试有限公司合同专用章');
    expect(s!.unprotected).toEqual([]);
    // The stamp where asked, at the seal picture's 40 × 40 mm, then one slice per page on the right edge.
    expect(s!.stamps.map((t) => [t.page, t.boundary, t.clip])).toEqual([
      [3, [120, 200, 40, 40], undefined],
      [1, [196.667, expect.any(Number), 40, 40], [0, 0, 13.333, 40]],
      [2, [183.333, expect.any(Number), 40, 40], [13.333, 0, 13.333, 40]],
      [3, [170, expect.any(Number), 40, 40], [26.667, 0, 13.333, 40]],
    ]);
    const files = pythonUnzip(tmp, readFileSync(signedPath));
    const dir = 'Doc_0/Signs/Sign_0';
    expect(bcCheck(files.get(`${dir}/Signature.xml`)!, files.get(`${dir}/SignedValue.dat`)!).out).toBe(
      `VALID hash=true signature=true propertyInfo=/${dir}/Signature.xml`,
    );

    const stranger = pki.root('stranger', '/CN=Another SM2 Root/C=CN');
    const untrusted = await sigil('ofd', 'verify', signedPath, '--trust', stranger.certFile);
    expect(untrusted.status).toBe(1);
    expect(untrusted.out).toContain('chain: NOT trusted');
  }, 300_000);

  it('refuses our signature once a page changes, and Signature.xml once a stamp is moved (BouncyCastle agrees)', async () => {
    const signed = readFileSync(tmp.file('signed.ofd'));
    const page = await sigil(
      'ofd',
      'verify',
      tmp.file('page-changed.ofd', pythonZip(tmp, { input: signed, flip: { 'Doc_0/Pages/Page_1/Content.xml': 200 } })),
      '--trust',
      root.certFile,
    );
    expect(page.status).toBe(1);
    expect(page.out).toContain('problem: /Doc_0/Pages/Page_1/Content.xml was changed after signing');

    const dir = 'Doc_0/Signs/Sign_0';
    const files = pythonUnzip(tmp, signed);
    const moved = Buffer.from(
      files.get(`${dir}/Signature.xml`)!.toString().replace('Boundary="120 200 40 40"', 'Boundary="20 200 40 40"'),
    );
    expect(moved.equals(files.get(`${dir}/Signature.xml`)!)).toBe(false);
    const xml = await sigil(
      'ofd',
      'verify',
      tmp.file('moved.ofd', pythonZip(tmp, { input: signed, set: { [`${dir}/Signature.xml`]: moved } })),
      '--trust',
      root.certFile,
    );
    expect(xml.status).toBe(1);
    expect(xml.out).toMatch(/problem: the signed value does not verify: .*the data was changed after signing/);
    expect(bcCheck(moved, files.get(`${dir}/SignedValue.dat`)!).out).toMatch(/^INVALID hash=false signature=true/);
  }, 300_000);

  it('refuses to sign with a certificate the seal does not list, a key of another kind, a page the file lacks', async () => {
    const sign = (...extra: string[]) => sigil('ofd', 'sign', contract, tmp.file('x.ofd'), '--seal', esl(), ...extra);
    expectProblem(
      await sign('--key', maker.keyFile, '--cert', maker.certFile),
      /测试集团电子印章制作.* is not on the seal's list of signers/,
    );
    const ecKey = tmp.file('p256.key');
    const ecCert = tmp.file('p256.pem');
    run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', ecKey]);
    run('openssl', ['req', '-x509', '-new', '-key', ecKey, '-subj', '/CN=P-256 signer', '-days', '30', '-out', ecCert]);
    expectProblem(
      await sign('--key', ecKey, '--cert', ecCert),
      /--key is an EC key; GB\/T 38540 seal signatures are made with SM2 keys/,
    );
    expectProblem(
      await sign('--key', signer.keyFile, '--cert', maker.certFile),
      /The private key does not belong to the certificate/,
    );
    expectProblem(
      await sign('--key', signer.keyFile, '--cert', signer.certFile, '--page', '9', '--at', '10,10'),
      /the document has 3 pages; there is no page 9 to stamp/,
    );
    expectProblem(await sign('--key', signer.keyFile, '--cert', signer.certFile, '--at', '10'), /x,y or x,y,w,h/);
  }, 300_000);
});

interface Element {
  offset: number;
  headerLength: number;
  length: number;
}

/** The elements `openssl asn1parse` finds at `depth`, offsets into the file. */
function asn1Elements(der: Buffer, depth: number): Element[] {
  const out = run('openssl', ['asn1parse', '-inform', 'DER', '-in', tmp.file(`asn1-${der.length}.der`, der)]).out;
  const elements: Element[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+):d=(\d+)\s+hl=(\d+)\s+l=\s*(\d+)/.exec(line);
    if (m && Number(m[2]) === depth)
      elements.push({ offset: Number(m[1]), headerLength: Number(m[3]), length: Number(m[4]) });
  }
  return elements;
}
