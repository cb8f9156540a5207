// The PKCS#11 signer against SoftHSM2 (Debian's softhsm2): a token in a temporary directory,
// keys imported into it, documents and certificates signed by the token.
import { createPublicKey, createVerify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRootCa, issueSealCertificate } from '../../src/signing/ca.js';
import { signPdf } from '../../src/signing/pades.js';
import { openPkcs11KeySigner, openPkcs11Signer, type Pkcs11Signer } from '../../src/signing/pkcs11-signer.js';
import { verifyPdf } from '../../src/signing/verify.js';
import { derToPem, isIssuedBy, parseCertificate } from '../../src/signing/x509.js';
import { buildPdf } from './pdf-fixtures.js';
import { nssDatabase, pdfsig, run, SOFTHSM_LIBRARY, softHsmTokens, tempDir, testPki, type TestPki } from './support.js';

const LIBRARY = SOFTHSM_LIBRARY;
const PIN = '123456';
let tmp: ReturnType<typeof tempDir>;
let pki: TestPki;
let nss: string;
const open: Pkcs11Signer[] = [];

beforeAll(async () => {
  pki = await testPki();
  tmp = tempDir('sigil-hsm-');
  softHsmTokens(tmp, ['sigil-test'], PIN);
  for (const [label, id, party] of [
    ['seal-rsa', '01', pki.sealRsa],
    ['seal-ec', '02', pki.sealEc],
  ] as const) {
    const keyFile = tmp.file(`${label}.pem`, party.key.export({ format: 'pem', type: 'pkcs8' }) as string);
    run('softhsm2-util', ['--import', keyFile, '--token', 'sigil-test', '--label', label, '--id', id, '--pin', PIN]);
  }
  nss = nssDatabase(tmp.dir, pki.root);
});
afterAll(() => {
  for (const s of open) s.close();
  tmp?.remove();
});

describe('PKCS#11 signer (SoftHSM2)', () => {
  for (const [label, which] of [
    ['seal-rsa', 'sealRsa'],
    ['seal-ec', 'sealEc'],
  ] as const) {
    it(`signs a PDF with the ${label} token key; pdfsig and Sigil accept it`, async () => {
      const party = pki[which];
      const signer = openPkcs11Signer({
        library: LIBRARY,
        tokenLabel: 'sigil-test',
        pin: PIN,
        keyLabel: label,
        certificate: party.signer.certificate,
        chain: [pki.ca, pki.root],
      });
      open.push(signer);
      expect(signer.publicKey.equals(party.signer.publicKey)).toBe(true);
      // Concurrent signatures queue on the one session instead of failing.
      const [a, b] = await Promise.all([
        signPdf(buildPdf({ seed: 1 }), { signer, level: 'B-T', timestamper: pki.timestamper }),
        signPdf(buildPdf({ seed: 2 }), { signer }),
      ]);
      for (const [i, pdf] of [a, b].entries()) {
        const seen = pdfsig(tmp.file(`${label}-${i}.pdf`, pdf), nss);
        expect(seen[0]!.signatureValid).toBe(true);
        expect(seen[0]!.certificateTrusted).toBe(true);
        expect((await verifyPdf(pdf, { trustAnchors: [pki.root] })).intact).toBe(true);
      }
    });
  }

  it('lets a CA key stay in the token: a root and a seal certificate signed by it', async () => {
    const caKey = openPkcs11KeySigner({ library: LIBRARY, tokenLabel: 'sigil-test', pin: PIN, keyId: '02' });
    try {
      const root = await createRootCa({ signer: caKey, subject: { commonName: 'HSM Root' } });
      const seal = await issueSealCertificate({
        issuer: { signer: caKey, certificate: root },
        subject: { commonName: 'HSM-issued seal', organization: 'Acme' },
        publicKey: pki.sealRsa.signer.publicKey,
      });
      expect(isIssuedBy(parseCertificate(seal), parseCertificate(root))).toBe(true);
      const rootFile = tmp.file('hsm-root.pem', derToPem(root));
      expect(run('openssl', ['verify', '-CAfile', rootFile, tmp.file('hsm-seal.pem', derToPem(seal))]).out).toContain(
        'OK',
      );
    } finally {
      caKey.close();
    }
  });

  // The token signs on libuv's threads, several sessions at once, while the main thread opens
  // sessions and reads objects, as the server's key vault does: the module must be told that it is
  // used from several threads (CKF_OS_LOCKING_OK), or SoftHSM2 takes no locks at all and its state
  // races: without it this test crashed its process in 4 of 5 runs. Sessions close together at the
  // end, as the vault closes them (C_Logout ends the login of every session of the process).
  it('signs on several sessions at once while other sessions open, every signature right', async () => {
    const signers = ['01', '01', '02', '02'].map((keyId) =>
      openPkcs11KeySigner({ library: LIBRARY, tokenLabel: 'sigil-test', pin: PIN, keyId }),
    );
    const opened: Array<{ close(): void }> = [];
    try {
      const publicKeys = signers.map((s) => createPublicKey({ key: s.publicKey, format: 'der', type: 'spki' }));
      const jobs: Array<Promise<boolean>> = [];
      for (let round = 0; round < 150; round++) {
        for (const [i, signer] of signers.entries()) {
          const data = Buffer.from(`round ${round} signer ${i}`);
          jobs.push(
            signer
              .sign(data, 'SHA-256')
              .then((signature) =>
                createVerify('SHA256').update(data).verify({ key: publicKeys[i]!, dsaEncoding: 'der' }, signature),
              ),
          );
        }
        // Meanwhile, on the main thread: a session opened and its objects read.
        opened.push(openPkcs11KeySigner({ library: LIBRARY, tokenLabel: 'sigil-test', pin: PIN, keyId: '02' }));
      }
      expect((await Promise.all(jobs)).every(Boolean)).toBe(true);
    } finally {
      for (const signer of [...signers, ...opened]) signer.close();
    }
  });

  it('names a wrong PIN and a missing key', () => {
    expect(() =>
      openPkcs11Signer({ library: LIBRARY, tokenLabel: 'sigil-test', pin: '000000', keyLabel: 'seal-rsa' }),
    ).toThrow(expect.objectContaining({ code: 'key_password_invalid' }));
    expect(() =>
      openPkcs11Signer({ library: LIBRARY, tokenLabel: 'sigil-test', pin: PIN, keyLabel: 'no-such-key' }),
    ).toThrow(expect.objectContaining({ code: 'signing_key_invalid' }));
    expect(() => openPkcs11Signer({ library: LIBRARY, tokenLabel: 'no-such-token', pin: PIN })).toThrow(
      expect.objectContaining({ code: 'signer_unavailable' }),
    );
  });
});
