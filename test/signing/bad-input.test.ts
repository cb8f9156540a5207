// Bad input: every failure is a typed error naming the problem, in bounded time and memory; and
// a thousand mutated PDFs go through the verifier and the signer with only clean outcomes.
import { readFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError, errorStatus } from '../../src/server/errors.js';
import { SigningError } from '../../src/signing/index.js';
import { createCrl } from '../../src/signing/ca.js';
import { signPdf, staticRevocationSource } from '../../src/signing/pades.js';
import { verifyPdf } from '../../src/signing/verify.js';
import { parseCertificate } from '../../src/signing/x509.js';
import { buildPdf, prng } from './pdf-fixtures.js';
import { requireTool, run, sealPng, tempDir, testPki, type TestPki } from './support.js';

let pki: TestPki;
let tmp: ReturnType<typeof tempDir>;
beforeAll(async () => {
  requireTool('qpdf');
  pki = await testPki();
  tmp = tempDir();
});
afterAll(() => tmp?.remove());

const code = (promise: Promise<unknown>) =>
  promise.then(
    () => 'ok',
    (e: unknown) => (e instanceof AppError || e instanceof SigningError ? e.code : `untyped: ${String(e)}`),
  );

/** A PDF by hand whose single page content stream is `content`. */
function withContent(content: Buffer, extra = ''): Buffer {
  const objects = [
    '<</Type/Catalog/Pages 2 0 R>>',
    '<</Type/Pages/Kids[3 0 R]/Count 1>>',
    `<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]/Contents 4 0 R${extra}>>`,
  ];
  const parts = ['%PDF-1.7\n'];
  const offsets: number[] = [];
  let body = Buffer.from(parts[0]!, 'latin1');
  for (const [i, o] of objects.entries()) {
    offsets.push(body.length);
    body = Buffer.concat([body, Buffer.from(`${i + 1} 0 obj\n${o}\nendobj\n`, 'latin1')]);
  }
  offsets.push(body.length);
  body = Buffer.concat([
    body,
    Buffer.from(`4 0 obj\n<</Length ${content.length}/Filter/FlateDecode>>\nstream\n`, 'latin1'),
    content,
    Buffer.from('\nendstream\nendobj\n', 'latin1'),
  ]);
  const xref = `xref\n0 5\n0000000000 65535 f\r\n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n\r\n`).join('')}trailer\n<</Size 5/Root 1 0 R>>\nstartxref\n${body.length}\n%%EOF\n`;
  return Buffer.concat([body, Buffer.from(xref, 'latin1')]);
}

describe('bad input gives a typed error', () => {
  it('non-PDF, empty, truncated and encrypted files', async () => {
    const signer = pki.sealRsa.signer;
    const signed = await signPdf(buildPdf(), { signer });
    const encryptedFile = tmp.file('encrypted.pdf');
    run('qpdf', ['--encrypt', 'user', 'owner', '256', '--', tmp.file('plain.pdf', buildPdf()), encryptedFile]);
    const encrypted = readFileSync(encryptedFile);
    const cases: Array<[string, Buffer, string]> = [
      ['a PNG', sealPng(), 'pdf_malformed'],
      ['nothing', Buffer.alloc(0), 'pdf_malformed'],
      ['a truncated PDF', signed.subarray(0, Math.floor(signed.length / 2)), 'pdf_malformed'],
      ['an encrypted PDF', encrypted, 'pdf_encrypted'],
    ];
    for (const [what, bytes, expected] of cases) {
      expect(await code(verifyPdf(bytes)), `verify ${what}`).toBe(expected);
      expect(await code(signPdf(bytes, { signer })), `sign ${what}`).toBe(expected);
    }
  });

  it('files and streams over the limits', async () => {
    const signer = pki.sealRsa.signer;
    expect(await code(verifyPdf(buildPdf(), { limits: { maxFileBytes: 100 } }))).toBe('pdf_too_large');
    // 64 MB of zeros deflate to ~64 KB: a decompression bomb for the keyword search.
    // The limit stops it before it inflates (a hang would fail the test by its timeout).
    const bomb = withContent(deflateSync(Buffer.alloc(64 * 1024 * 1024)));
    expect(
      await code(
        signPdf(bomb, {
          signer,
          appearance: { image: sealPng(), at: { keyword: 'x' } },
          limits: { maxStreamBytes: 8 * 1024 * 1024 },
        }),
      ),
    ).toBe('pdf_too_large');
    // Deep nesting in an object.
    const deep = withContent(deflateSync(Buffer.from('BT ET')), `/Deep ${'['.repeat(5000)}${']'.repeat(5000)}`);
    expect(await code(signPdf(deep, { signer }))).toBe('pdf_too_large');
  });

  it('cross-reference loops and page-tree cycles', async () => {
    const pdf = buildPdf().toString('latin1');
    const startxref = Number(/startxref\n(\d+)/.exec(pdf)![1]);
    const looping = Buffer.from(pdf.replace('/Size', `/Prev ${startxref}/Size`), 'latin1');
    expect(await code(verifyPdf(looping))).toBe('pdf_malformed');
    const cyclic = Buffer.from(pdf.replace(/\/Kids\[(\d+) 0 R\]/, '/Kids[2 0 R]'), 'latin1');
    expect(await code(signPdf(cyclic, { signer: pki.sealRsa.signer }))).toBe('pdf_malformed');
  });

  it('expired, not yet valid and revoked certificates are refused for signing', async () => {
    const expired = await pki.issue({
      commonName: 'Expired Seal',
      notBefore: new Date(Date.now() - 10 * 86_400_000),
      notAfter: new Date(Date.now() - 86_400_000),
    });
    const future = await pki.issue({ commonName: 'Future Seal', notBefore: new Date(Date.now() + 86_400_000) });
    expect(await code(signPdf(buildPdf(), { signer: expired.signer }))).toBe('certificate_expired');
    expect(await code(signPdf(buildPdf(), { signer: future.signer }))).toBe('certificate_expired');
    const lost = await pki.issue({ commonName: 'Lost Seal' });
    const crl = await createCrl({
      issuer: { signer: pki.caSigner, certificate: pki.ca },
      revoked: [
        {
          serial: parseCertificate(lost.signer.certificate).serial,
          date: new Date(Date.now() - 1000),
          reason: 'keyCompromise',
        },
      ],
      crlNumber: 2,
    });
    expect(await code(signPdf(buildPdf(), { signer: lost.signer, revocation: staticRevocationSource([crl]) }))).toBe(
      'certificate_revoked',
    );
    // Signed before the revocation became known to the signer: the verifier, given the CRL, says revoked.
    const signed = await signPdf(buildPdf(), { signer: lost.signer });
    const report = await verifyPdf(signed, { trustAnchors: [pki.root], crls: [crl] });
    expect(report.signatures[0]).toMatchObject({ revoked: true, revocation: 'revoked', valid: false });
    expect(report.intact).toBe(false);
  });
});

describe('fuzzing', () => {
  it('a thousand mutated PDFs give only results or typed errors, never a crash or a hang', async () => {
    const signer = pki.sealEc.signer;
    const seeds = [
      await signPdf(buildPdf({ pages: 2, cjkLines: ['甲方（盖章）'] }), {
        signer,
        level: 'B-T',
        timestamper: pki.timestamper,
      }),
      await signPdf(buildPdf({ pages: 3, seed: 3 }), { signer, crossPage: { image: sealPng(40) } }),
      await signPdf(await signPdf(buildPdf({ pages: 1, seed: 4 }), { signer }), {
        signer,
        level: 'B-LT',
        timestamper: pki.timestamper,
        revocation: staticRevocationSource([pki.crl]),
      }),
    ];
    const objstmFile = tmp.file('objstm.pdf');
    run('qpdf', [
      '--object-streams=generate',
      tmp.file('plain-objstm.pdf', buildPdf({ pages: 2, seed: 5 })),
      objstmFile,
    ]);
    seeds.push(await signPdf(readFileSync(objstmFile), { signer }));
    const random = prng(20261121);
    const pick = (n: number) => Math.floor(random() * n);
    const mutate = (input: Buffer): Buffer => {
      const b = Buffer.from(input);
      switch (pick(6)) {
        case 0: // flip a few bytes
          for (let i = 0, n = 1 + pick(8); i < n; i++) b[pick(b.length)] = pick(256);
          return b;
        case 1: // truncate
          return b.subarray(0, pick(b.length));
        case 2: {
          // insert random bytes
          const at = pick(b.length);
          return Buffer.concat([
            b.subarray(0, at),
            Buffer.from(Array.from({ length: 1 + pick(32) }, () => pick(256))),
            b.subarray(at),
          ]);
        }
        case 3: {
          // change a number (offsets, lengths, object numbers)
          const text = b.toString('latin1');
          const matches = [...text.matchAll(/\d+/g)];
          const m = matches[pick(matches.length)];
          if (!m) return b;
          const replacement = String([0, 1, 9_999_999_999, Number(m[0]) + 1, Number(m[0]) * 1000][pick(5)]);
          return Buffer.from(text.slice(0, m.index) + replacement + text.slice(m.index! + m[0].length), 'latin1');
        }
        case 4: {
          // delete a chunk
          const at = pick(b.length);
          return Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + pick(200)))]);
        }
        default: {
          // swap a keyword for a structural one
          const text = b.toString('latin1');
          const words = [
            'obj',
            'endobj',
            'stream',
            'endstream',
            'xref',
            'trailer',
            'startxref',
            '/Kids',
            '/Contents',
            '/ByteRange',
            '<<',
            '>>',
            '[',
            ']',
            'R',
          ];
          const from = words[pick(words.length)]!;
          const at = text.indexOf(from, pick(text.length));
          if (at < 0) return b;
          return Buffer.from(text.slice(0, at) + words[pick(words.length)]! + text.slice(at + from.length), 'latin1');
        }
      }
    };
    const outcomes = new Map<string, number>();
    const untyped: string[] = [];
    for (let i = 0; i < 1000; i++) {
      const input = mutate(seeds[i % seeds.length]!);
      for (const [what, attempt] of [
        ['verify', () => verifyPdf(input, { trustAnchors: [pki.root] })],
        [
          'sign',
          () =>
            signPdf(input, {
              signer,
              appearance: i % 4 === 0 ? { image: sealPng(24), at: { keyword: '甲方（盖章）' } } : undefined,
            }),
        ],
      ] as const) {
        try {
          await attempt();
          outcomes.set(`${what}: ok`, (outcomes.get(`${what}: ok`) ?? 0) + 1);
        } catch (error) {
          if ((error instanceof AppError || error instanceof SigningError) && error.code in errorStatus)
            outcomes.set(`${what}: ${error.code}`, (outcomes.get(`${what}: ${error.code}`) ?? 0) + 1);
          else
            untyped.push(
              `case ${i} ${what}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
            );
        }
      }
    }
    expect(untyped.slice(0, 5)).toEqual([]);
    // Both outcomes occur: mutations that break the file and ones that leave it readable.
    expect(outcomes.get('verify: ok') ?? 0).toBeGreaterThan(50);
    expect(outcomes.get('verify: pdf_malformed') ?? 0).toBeGreaterThan(50);
  }, 60_000);
});
