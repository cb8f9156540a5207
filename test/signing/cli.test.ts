// `sigil pdf sign` and `sigil pdf verify`, in-process: exit statuses 0 / 1 / 2 and the JSON report.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { writePkcs12 } from '../../src/signing/pkcs12.js';
import { respondToTimeStampRequest } from '../../src/signing/tsa.js';
import { derToPem } from '../../src/signing/x509.js';
import { buildPdf, prng } from './pdf-fixtures.js';
import { sealPng, tempDir, testPki, type TestPki } from './support.js';

let pki: TestPki;
let tmp: ReturnType<typeof tempDir>;
let tsa: Server;
let tsaUrl: string;
let p12: string;
let root: string;

beforeAll(async () => {
  pki = await testPki();
  tmp = tempDir('sigil-cli-pdf-');
  p12 = tmp.file(
    'seal.p12',
    writePkcs12({ key: pki.sealRsa.key, certificate: pki.sealRsa.signer.certificate, chain: [pki.ca], password: 'pw' }),
  );
  root = tmp.file('root.pem', derToPem(pki.root));
  tmp.file('in.pdf', buildPdf({ pages: 2, cjkLines: ['甲方（盖章）：'] }));
  tmp.file('seal.png', sealPng());
  tsa = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void respondToTimeStampRequest(pki.tsa, Buffer.concat(chunks)).then((body) => res.end(body)));
  });
  await new Promise<void>((resolve) => tsa.listen(0, '127.0.0.1', resolve));
  tsaUrl = `http://127.0.0.1:${(tsa.address() as AddressInfo).port}/tsa`;
});
afterAll(async () => {
  await new Promise((resolve) => tsa.close(resolve));
  tmp?.remove();
});

async function sigil(...args: string[]): Promise<{ status: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
  process.exitCode = undefined;
  try {
    const status = await main(['node', 'sigil', ...args]);
    return { status, out, err };
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
    process.exitCode = undefined;
  }
}

describe('sigil pdf', () => {
  it('signs at B-T with a seal on a keyword, then verifies with exit 0 and a JSON report', async () => {
    const signed = await sigil(
      'pdf',
      'sign',
      tmp.file('in.pdf'),
      tmp.file('out.pdf'),
      '--p12',
      p12,
      '--password',
      'pw',
      '--level',
      'B-T',
      '--tsa',
      tsaUrl,
      '--image',
      tmp.file('seal.png'),
      '--keyword',
      '甲方（盖章）',
      '--reason',
      '合同签署',
    );
    expect(signed.err).toBe('');
    expect(signed.status).toBe(0);
    const verified = await sigil('pdf', 'verify', tmp.file('out.pdf'), '--trust', root, '--json');
    expect(verified.status).toBe(0);
    const report = JSON.parse(verified.out) as { intact: boolean; signatures: Array<Record<string, unknown>> };
    expect(report.intact).toBe(true);
    expect(report.signatures[0]).toMatchObject({
      valid: true,
      timestamped: true,
      coversWholeDocument: true,
      chainTrusted: true,
    });
    expect(report.signatures[0]!.signer).toMatchObject({ commonName: '合同专用章 Contract Seal' });
    expect(typeof report.signatures[0]!.signedAt).toBe('string');

    const cross = await sigil(
      'pdf',
      'sign',
      tmp.file('out.pdf'),
      tmp.file('out2.pdf'),
      '--p12',
      p12,
      '--password',
      'pw',
      '--image',
      tmp.file('seal.png'),
      '--cross-page',
    );
    expect(cross.status).toBe(0);
    const text = await sigil('pdf', 'verify', tmp.file('out2.pdf'), '--trust', root);
    expect(text.status).toBe(0);
    expect(text.out).toMatch(/valid — 2 signatures/);
  });

  it('exits 1 for an altered document and for an untrusted chain', async () => {
    await sigil('pdf', 'sign', tmp.file('in.pdf'), tmp.file('plain.pdf'), '--p12', p12, '--password', 'pw');
    const bytes = readFileSync(tmp.file('plain.pdf'));
    bytes[150] = bytes[150]! ^ 0x01;
    tmp.file('tampered.pdf', bytes);
    const tampered = await sigil('pdf', 'verify', tmp.file('tampered.pdf'));
    expect(tampered.status).toBe(1);
    expect(tampered.out).toContain('NOT VALID');
    const otherRoot = tmp.file('other-root.pem', derToPem(pki.sealEc.signer.certificate));
    expect((await sigil('pdf', 'verify', tmp.file('plain.pdf'), '--trust', otherRoot)).status).toBe(1);
    expect((await sigil('pdf', 'verify', tmp.file('in.pdf'))).status).toBe(1);
  });

  it('exits 2 with a clear message for unreadable input, a wrong password, a missing page or keyword', async () => {
    tmp.file('not.pdf', 'hello');
    const cases: Array<[string[], RegExp]> = [
      [['pdf', 'verify', tmp.file('not.pdf')], /not a PDF/],
      [['pdf', 'verify', tmp.file('missing.pdf')], /ENOENT/],
      [
        ['pdf', 'sign', tmp.file('in.pdf'), tmp.file('x.pdf'), '--p12', p12, '--password', 'nope'],
        /password of the PKCS#12 file is wrong/,
      ],
      [
        [
          'pdf',
          'sign',
          tmp.file('in.pdf'),
          tmp.file('x.pdf'),
          '--p12',
          p12,
          '--password',
          'pw',
          '--image',
          tmp.file('seal.png'),
          '--page',
          '9',
          '--rect',
          '1,1,50,50',
        ],
        /page 9 does not exist/,
      ],
      [
        [
          'pdf',
          'sign',
          tmp.file('in.pdf'),
          tmp.file('x.pdf'),
          '--p12',
          p12,
          '--password',
          'pw',
          '--image',
          tmp.file('seal.png'),
          '--keyword',
          '丙方',
        ],
        /does not occur/,
      ],
      [
        ['pdf', 'sign', tmp.file('in.pdf'), tmp.file('x.pdf'), '--p12', p12, '--password', 'pw', '--level', 'B-T'],
        /needs --tsa/,
      ],
      [
        ['pdf', 'sign', tmp.file('in.pdf'), tmp.file('x.pdf'), '--p12', p12, '--password', 'pw', '--level', 'B-X'],
        /must be one of/,
      ],
      [
        ['pdf', 'sign', tmp.file('in.pdf'), tmp.file('x.pdf'), '--p12', p12, '--password', 'pw', '--rect', '1,2,3'],
        /x,y,w,h/,
      ],
    ];
    for (const [args, message] of cases) {
      const result = await sigil(...args);
      expect(result.status, args.join(' ')).toBe(2);
      expect(result.err, args.join(' ')).toMatch(message);
    }
  });

  it('writes a large --json report whole through a pipe, with its exit status', async () => {
    // A seal image of noise makes a report of several hundred KB with --images.
    const noise = new PNG({ width: 400, height: 400 });
    const random = prng(5);
    for (let i = 0; i < noise.data.length; i++) noise.data[i] = Math.floor(random() * 256);
    tmp.file('noise.png', PNG.sync.write(noise));
    const sign = [
      '--p12',
      p12,
      '--password',
      'pw',
      '--image',
      tmp.file('noise.png'),
      '--page',
      '1',
      '--rect',
      '72,72,200,200',
    ];
    expect((await sigil('pdf', 'sign', tmp.file('in.pdf'), tmp.file('noise.pdf'), ...sign)).status).toBe(0);
    const otherRoot = tmp.file('another-root.pem', derToPem(pki.sealEc.signer.certificate));
    // A process of its own, as bin/sigil.js runs it, its stdout a pipe read by this one.
    const repo = fileURLToPath(new URL('../..', import.meta.url));
    const entry = new URL('../../src/cli/main.ts', import.meta.url).href;
    const args = ['pdf', 'verify', tmp.file('noise.pdf'), '--json', '--images', '--trust', otherRoot];
    const child = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `const { runCommandLine } = await import(${JSON.stringify(entry)}); await runCommandLine(['node', 'sigil', ...JSON.parse(process.argv[1])]);`,
        JSON.stringify(args),
      ],
      { cwd: repo, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
    );
    expect(child.stderr).toBe('');
    expect(child.stdout.length).toBeGreaterThan(256 * 1024);
    const report = JSON.parse(child.stdout) as { signatures: Array<{ seals: Array<{ png?: string }> }> };
    expect(report.signatures[0]!.seals[0]!.png).toMatch(/^iVBOR/);
    // Not trusted by that root: exit 1, not 0.
    expect(child.status).toBe(1);
  });

  it('refuses a cross-page seal over too many pages when groups are forbidden', async () => {
    tmp.file('long.pdf', buildPdf({ pages: 20 }));
    const base = ['pdf', 'sign', tmp.file('long.pdf'), tmp.file('long-signed.pdf'), '--p12', p12, '--password', 'pw'];
    const refused = await sigil(...base, '--image', tmp.file('seal.png'), '--cross-page', '--no-cross-page-groups');
    expect(refused.status).toBe(2);
    expect(refused.err).toMatch(/at most 14 pages can share one seal/);
    expect((await sigil(...base, '--image', tmp.file('seal.png'), '--cross-page')).status).toBe(0);
    const verified = await sigil('pdf', 'verify', tmp.file('long-signed.pdf'), '--trust', root);
    expect(verified.status).toBe(0);
    expect(verified.out.match(/seal image/g)).toHaveLength(20);
  });

  it('is listed in --help', async () => {
    const help = await sigil('pdf', '--help');
    expect(help.status).toBe(0);
    expect(help.out).toMatch(/sign[\s\S]*verify/);
  });
});
