// The certificate authority, PKCS#12 and the RFC 3161 service, checked with openssl.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCrl, generateKey, issueSealCertificate } from '../../src/signing/ca.js';
import { signPdf } from '../../src/signing/pades.js';
import { crlDistributionPoints, httpRevocationSource } from '../../src/signing/revocation.js';
import { verifyPdf } from '../../src/signing/verify.js';
import { buildPdf } from './pdf-fixtures.js';
import { readPkcs12, signerFromPkcs12, writePkcs12 } from '../../src/signing/pkcs12.js';
import { createKeySigner, signerFromPem, signerFromPkcs8, withCertificate } from '../../src/signing/signer.js';
import {
  buildTimeStampRequest,
  checkTimestampToken,
  createHttpTimestamper,
  parseTimeStampResponse,
  respondToTimeStampRequest,
} from '../../src/signing/tsa.js';
import { derToPem, parseCertificate, parseCrl } from '../../src/signing/x509.js';
import { requireTool, run, tempDir, testPki, type TestPki } from './support.js';

let pki: TestPki;
let tmp: ReturnType<typeof tempDir>;
let rootPem: string;
let caPem: string;

beforeAll(async () => {
  requireTool('openssl');
  pki = await testPki();
  tmp = tempDir();
  rootPem = tmp.file('root.pem', derToPem(pki.root));
  caPem = tmp.file('ca.pem', derToPem(pki.ca));
});
afterAll(() => tmp?.remove());

describe('certificate authority', () => {
  it('issues a chain openssl verifies, with the key usages of each profile', () => {
    const seal = tmp.file('seal.pem', derToPem(pki.sealRsa.signer.certificate));
    const person = tmp.file('person.pem', derToPem(pki.person.signer.certificate));
    const tsa = tmp.file('tsa.pem', derToPem(pki.tsa.signer.certificate));
    expect(run('openssl', ['verify', '-CAfile', rootPem, '-untrusted', caPem, seal, person, tsa]).out).toMatch(
      /seal.pem: OK[\s\S]*person.pem: OK[\s\S]*tsa.pem: OK/,
    );
    const sealText = run('openssl', ['x509', '-in', seal, '-noout', '-text']).out;
    expect(sealText).toMatch(/Key Usage: critical\s+Digital Signature, Non Repudiation/);
    expect(sealText).toContain('E-mail Protection');
    expect(sealText).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    const caText = run('openssl', ['x509', '-in', caPem, '-noout', '-text']).out;
    expect(caText).toMatch(/CA:TRUE, pathlen:0/);
    expect(caText).toMatch(/Certificate Sign, CRL Sign/);
    const tsaText = run('openssl', ['x509', '-in', tsa, '-noout', '-text']).out;
    expect(tsaText).toMatch(/Extended Key Usage: critical\s+Time Stamping/);
    expect(parseCertificate(pki.person.signer.certificate).subject).toContain('CN=Zhang San');
    expect(run('openssl', ['x509', '-in', person, '-noout', '-text']).out).toContain('Public-Key: (3072 bit)');
  });

  it('writes CRLs that openssl reads and checks, with reasons', async () => {
    const victim = await pki.issue({ commonName: 'Lost Seal' });
    const serial = parseCertificate(victim.signer.certificate).serial;
    const crl = await createCrl({
      issuer: { signer: pki.caSigner, certificate: pki.ca },
      revoked: [{ serial, date: new Date(), reason: 'keyCompromise' }],
      crlNumber: 7,
    });
    const file = tmp.file('ca.crl', crl);
    const text = run('openssl', ['crl', '-inform', 'DER', '-in', file, '-noout', '-text', '-CAfile', caPem]).out;
    expect(text).toContain('verify OK');
    expect(text).toContain('Key Compromise');
    expect(text).toContain(serial.toString(16).toUpperCase());
    const parsed = parseCrl(crl);
    expect(parsed.revoked).toEqual([expect.objectContaining({ serial, reason: 1 })]);
    // openssl verify with the CRL now rejects the certificate.
    const certFile = tmp.file('victim.pem', derToPem(victim.signer.certificate));
    const crlPem = tmp.file('ca-crl.pem', run('openssl', ['crl', '-inform', 'DER', '-in', file]).out);
    const rootCrl = tmp.file(
      'root-crl.pem',
      run('openssl', ['crl', '-inform', 'DER', '-in', tmp.file('root.crl', pki.rootCrl)]).out,
    );
    const verdict = run(
      'openssl',
      [
        'verify',
        '-crl_check_all',
        '-CAfile',
        rootPem,
        '-untrusted',
        caPem,
        '-CRLfile',
        crlPem,
        '-CRLfile',
        rootCrl,
        certFile,
      ],
      { allowFailure: true },
    );
    expect(verdict.out).toContain('certificate revoked');
  });

  it('refuses to let a certificate outlive its issuer or a non-CA issue', async () => {
    const key = createKeySigner(await generateKey('ECDSA-P256'));
    await expect(
      issueSealCertificate({
        issuer: { signer: pki.caSigner, certificate: pki.ca },
        subject: { commonName: 'X', organization: 'Y' },
        publicKey: key.publicKey,
        notAfter: new Date(Date.now() + 100 * 365 * 86_400_000),
      }),
    ).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(
      issueSealCertificate({
        issuer: { signer: pki.sealRsa.signer, certificate: pki.sealRsa.signer.certificate },
        subject: { commonName: 'X', organization: 'Y' },
        publicKey: key.publicKey,
      }),
    ).rejects.toMatchObject({ code: 'signing_key_invalid' });
  });
});

describe('revocation data from CRL distribution points', () => {
  it('B-LT fetches the CRL a certificate names, embeds it, and the verifier finds the chain not revoked', async () => {
    const crl = await createCrl({ issuer: { signer: pki.caSigner, certificate: pki.ca }, revoked: [], crlNumber: 3 });
    const server = createServer((_req, res) => res.end(crl));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const crlUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ca.crl`;
      const key = await generateKey('RSA-2048');
      const cert = await issueSealCertificate({
        issuer: { signer: pki.caSigner, certificate: pki.ca },
        subject: { commonName: 'CDP Seal', organization: 'Acme' },
        publicKey: createKeySigner(key).publicKey,
        crlUrl,
      });
      expect(crlDistributionPoints(cert)).toEqual([crlUrl]);
      const signer = withCertificate(createKeySigner(key), cert, [pki.ca]);
      const source = httpRevocationSource({ timeoutMs: 2_000 });
      const pdf = await signPdf(buildPdf(), {
        signer,
        level: 'B-LT',
        timestamper: pki.timestamper,
        revocation: source,
      });
      expect(source.failures).toEqual([]);
      // The CA certificate is checked against the root's CRL, which the verifier is given.
      const report = await verifyPdf(pdf, { trustAnchors: [pki.root], crls: [pki.rootCrl] });
      expect(report.signatures[0]).toMatchObject({ valid: true, revocation: 'good', level: 'B-LT' });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

/** A PKCS#12 file of the RSA seal made by openssl (its chain included), with extra `openssl pkcs12` options. */
function opensslP12(name: string, extra: readonly string[] = []): { file: string; bytes: Buffer } {
  const keyPem = tmp.file(`${name}.key.pem`, pki.sealRsa.key.export({ format: 'pem', type: 'pkcs8' }) as string);
  const certs = tmp.file(
    `${name}.chain.pem`,
    [pki.sealRsa.signer.certificate, pki.ca].map((c) => derToPem(c)).join(''),
  );
  const file = tmp.file(`${name}.p12`);
  run('openssl', ['pkcs12', '-export', '-inkey', keyPem, '-in', certs, '-out', file, '-passout', 'pass:pw', ...extra]);
  return { file, bytes: readFileSync(file) };
}

describe('PKCS#12', () => {
  it('exports a file openssl opens and imports it back', async () => {
    const p12 = writePkcs12({
      key: pki.sealEc.key,
      certificate: pki.sealEc.signer.certificate,
      chain: [pki.ca, pki.root],
      password: 'correct horse',
    });
    const file = tmp.file('seal.p12', p12);
    expect(
      run('openssl', ['pkcs12', '-in', file, '-passin', 'pass:correct horse', '-nokeys', '-info'], {
        allowFailure: false,
      }).out,
    ).toContain('PBES2');
    const back = await readPkcs12(p12, 'correct horse');
    expect(back.certificate.equals(pki.sealEc.signer.certificate)).toBe(true);
    expect(back.chain).toHaveLength(2);
  });

  it('imports files written by openssl: AES (default) and the legacy 3DES scheme', async () => {
    for (const [name, extra] of [
      ['aes', []],
      ['3des', ['-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1']],
    ] as const) {
      const signer = await signerFromPkcs12(opensslP12(name, extra).bytes, 'pw');
      expect(signer.certificate.equals(pki.sealRsa.signer.certificate)).toBe(true);
    }
  });

  it('names a wrong password, and a file that is no PKCS#12', async () => {
    const p12 = writePkcs12({ key: pki.sealRsa.key, certificate: pki.sealRsa.signer.certificate, password: 'right' });
    await expect(readPkcs12(p12, 'wrong')).rejects.toThrow(expect.objectContaining({ code: 'key_password_invalid' }));
    await expect(readPkcs12(Buffer.from('not a p12 at all'), 'x')).rejects.toThrow(
      expect.objectContaining({ code: 'signing_key_invalid' }),
    );
    await expect(readPkcs12(p12.subarray(0, 200), 'right')).rejects.toThrow(
      expect.objectContaining({ code: 'signing_key_invalid' }),
    );
  });

  it('refuses more than a million KDF iterations by name, and never blocks the event loop with them', async () => {
    const p12 = (iter: number) => {
      const { file, bytes } = opensslP12(`kdf-${iter}`, ['-iter', String(iter)]);
      const info = run('openssl', ['pkcs12', '-in', file, '-passin', 'pass:pw', '-info', '-noout']).out;
      expect(info).toContain(`MAC: sha256, Iteration ${iter}`);
      return bytes;
    };
    await expect(readPkcs12(p12(1_000_001), 'pw')).rejects.toThrow(
      /iteration count 1000001 out of range \(1 to 1000000\)/,
    );
    // With many iterations the MAC's PKCS#12 KDF runs in a worker and PBKDF2 in libuv's pool: a
    // timer keeps firing meanwhile. Run on the event loop, the hashes would let it fire once at most.
    const file = p12(300_000);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      const back = await readPkcs12(file, 'pw');
      expect(back.certificate.equals(pki.sealRsa.signer.certificate)).toBe(true);
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(10);
  }, 120_000);

  it('builds a signer from a PKCS#8 key sealed at rest, as the database key store will', async () => {
    const { sealSecret, openSecret } = await import('../../src/lib/secrets.js');
    const masterKey = Buffer.alloc(32, 7);
    const sealed = sealSecret(masterKey, pki.sealRsa.key.export({ format: 'der', type: 'pkcs8' }), 'seal-key:test');
    const signer = signerFromPkcs8({
      pkcs8: openSecret(masterKey, sealed, 'seal-key:test'),
      certificate: pki.sealRsa.signer.certificate,
      chain: [pki.root, pki.ca],
    });
    expect(signer.chain.map((c) => parseCertificate(c).commonName)).toEqual([
      'Acme Group Issuing CA',
      'Sigil Test Root CA',
    ]);
    const pdf = await signPdf(buildPdf(), { signer });
    expect((await verifyPdf(pdf, { trustAnchors: [pki.root] })).intact).toBe(true);
    expect(() => signerFromPkcs8({ pkcs8: Buffer.from('junk'), certificate: pki.sealRsa.signer.certificate })).toThrow(
      expect.objectContaining({ code: 'signing_key_invalid' }),
    );
  });

  it('refuses a key that does not belong to the certificate', () => {
    expect(() => withCertificate(createKeySigner(pki.sealEc.key), pki.sealRsa.signer.certificate)).toThrow(
      expect.objectContaining({ code: 'signing_key_invalid' }),
    );
    const pem = signerFromPem({
      key: pki.sealRsa.key.export({ format: 'pem', type: 'pkcs8' }) as string,
      certificates: derToPem(pki.sealRsa.signer.certificate),
    });
    expect(pem.keyType).toBe('RSA');
  });
});

describe('time-stamp authority (RFC 3161)', () => {
  it('answers a request with a token that openssl ts verifies', async () => {
    const data = Buffer.from('the signature value');
    const digest = createHash('sha256').update(data).digest();
    const response = await respondToTimeStampRequest(
      pki.tsa,
      buildTimeStampRequest(digest, 'SHA-256', Buffer.from([0x12, 0x34])),
    );
    const file = tmp.file('reply.tsr', response);
    tmp.file('data.bin', data);
    expect(
      run('openssl', [
        'ts',
        '-verify',
        '-in',
        file,
        '-data',
        tmp.file('data.bin'),
        '-CAfile',
        rootPem,
        '-untrusted',
        caPem,
      ]).out,
    ).toContain('Verification: OK');
    const text = run('openssl', ['ts', '-reply', '-in', file, '-text']).out;
    expect(text).toContain('Status: Granted.');
    expect(text).toContain('Nonce: 0x1234');
    expect(checkTimestampToken(parseTimeStampResponse(response), { digest }).ok).toBe(true);
  });

  it('rejects malformed and unacceptable requests with a status, not an exception', async () => {
    for (const request of [
      Buffer.from('garbage'),
      Buffer.alloc(0),
      buildTimeStampRequest(Buffer.alloc(20), 'SHA-256', Buffer.from([1])),
    ]) {
      const response = await respondToTimeStampRequest(pki.tsa, request);
      expect(() => parseTimeStampResponse(response)).toThrow(/refused \(status 2/);
    }
  });

  it('refuses to run with a certificate that lacks the critical timeStamping usage', async () => {
    await expect(
      respondToTimeStampRequest(
        { signer: pki.sealRsa.signer },
        buildTimeStampRequest(Buffer.alloc(32), 'SHA-256', Buffer.from([1])),
      ),
    ).rejects.toMatchObject({ code: 'signing_key_invalid' });
  });

  describe('over HTTP with failover', () => {
    let good: Server;
    let broken: Server;
    let silent: Server;
    const url = (s: Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}/tsa`;
    beforeAll(async () => {
      good = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          void respondToTimeStampRequest(pki.tsa, Buffer.concat(chunks)).then((body) => {
            res.writeHead(200, { 'content-type': 'application/timestamp-reply' });
            res.end(body);
          });
        });
      });
      broken = createServer((_req, res) => {
        res.writeHead(500);
        res.end('down');
      });
      silent = createServer(() => {
        // never answers
      });
      await Promise.all(
        [good, broken, silent].map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))),
      );
    });
    afterAll(async () => {
      silent.closeAllConnections();
      await Promise.all([good, broken, silent].map((s) => new Promise((resolve) => s.close(resolve))));
    });

    it('fails over from a broken and a silent TSA to a working one, within the timeouts', async () => {
      // The silent TSA never answers: a token from the good one proves its timeout ended the wait.
      const timestamper = createHttpTimestamper({ urls: [url(broken), url(silent), url(good)], timeoutMs: 1_500 });
      const digest = createHash('sha256').update('x').digest();
      const token = await timestamper.timestamp(digest, 'SHA-256');
      expect(checkTimestampToken(token, { digest }).ok).toBe(true);
    });

    it('names every TSA it tried when none answers', async () => {
      const timestamper = createHttpTimestamper({ urls: [url(broken), url(silent)], timeoutMs: 1_000 });
      const error = await timestamper.timestamp(Buffer.alloc(32), 'SHA-256').catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'timestamp_unavailable' });
      expect(String((error as Error).message)).toMatch(/HTTP 500[\s\S]*no answer within 1000 ms/);
    });
  });
});
