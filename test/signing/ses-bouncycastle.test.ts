// An independent verdict on Sigil's SM2 signatures, seals and seal signatures: a small Java program
// (test/signing/java/SesCheck.java) compiled here against Debian's BouncyCastle (SM3withSM2 with its
// default ID 1234567812345678) checks good and changed files, and its verdict is compared with
// Sigil's. Skipped, saying why, only when Java is missing and REQUIRE_BROWSER_TESTS is unset: CI
// installs default-jdk-headless, libbcprov-java and libbcpkix-java (.ci/run) and sets it.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSealFile, verifySeal } from '../../src/signing/ses/seal.js';
import { signSesSignature, verifySesSignature } from '../../src/signing/ses/signature.js';
import { verifySm2 } from '../../src/signing/sm2.js';
import { sm2TestPki, type Sm2TestPki } from './sm2-support.js';
import { run, sealPng, tempDir } from './support.js';

const JARS = ['bcprov.jar', 'bcpkix.jar', 'bcutil.jar'].map((jar) => `/usr/share/java/${jar}`);
const SOURCE = join(import.meta.dirname, 'java', 'SesCheck.java');
const hasJava =
  spawnSync('sh', ['-c', 'command -v javac && command -v java'], { encoding: 'utf8' }).status === 0 &&
  JARS.every((jar) => existsSync(jar));
const required = process.env.REQUIRE_BROWSER_TESTS === '1';
if (!hasJava && !required)
  console.warn(
    'ses-bouncycastle.test.ts skipped: javac or BouncyCastle is missing (apt-get install default-jdk-headless libbcprov-java libbcpkix-java)',
  );

describe.skipIf(!hasJava && !required)('BouncyCastle agrees with Sigil on SM2, seals and seal signatures', () => {
  let tmp: ReturnType<typeof tempDir>;
  let classes: string;
  let pki: Sm2TestPki;
  let seal: Buffer;

  beforeAll(async () => {
    if (!hasJava)
      throw new Error(
        'REQUIRE_BROWSER_TESTS=1 but javac or BouncyCastle is missing: apt-get install default-jdk-headless libbcprov-java libbcpkix-java',
      );
    tmp = tempDir('sigil-bc-');
    classes = tmp.file('classes');
    run('javac', ['-d', classes, '-cp', JARS.join(':'), SOURCE]);
    pki = await sm2TestPki();
    seal = await issueSealFile({
      maker: pki.maker,
      type: 1,
      name: '测试有限公司公章',
      signers: [pki.person.certificate],
      validStart: new Date(Date.now() - 86_400_000),
      validEnd: new Date(Date.now() + 30 * 86_400_000),
      picture: { type: 'png', data: sealPng(), widthMm: 40, heightMm: 40 },
    });
  }, 120_000);
  afterAll(() => tmp?.remove());

  /** BouncyCastle's verdict: exit 0 and every line VALID, or the lines that say INVALID. */
  function bouncyCastle(...args: string[]): { ok: boolean; out: string } {
    const result = run('java', ['-cp', [classes, ...JARS].join(':'), 'SesCheck', ...args], { allowFailure: true });
    if (result.status !== 0 && result.status !== 1) throw new Error(`SesCheck failed to run:\n${result.out}`);
    return { ok: result.status === 0 && !/INVALID/.test(result.out), out: result.out };
  }
  const file = (name: string, data: Buffer) => tmp.file(name, data);
  function flip(der: Buffer, at: number): Buffer {
    const copy = Buffer.from(der);
    copy[at]! ^= 0x01;
    return copy;
  }

  it('checks an SM2 signature Sigil made, and refuses it over changed data', async () => {
    const data = Buffer.from('国密签名 interop');
    const signature = await pki.person.sign(data, 'SM3');
    const cert = file('person.der', pki.person.certificate);
    const good = bouncyCastle('sig', cert, file('data', data), file('sig', signature));
    expect(good.out).toMatch(/signature VALID/);
    expect(good.ok).toBe(verifySm2(pki.person.publicKey, data, signature));
    expect(good.ok).toBe(true);
    const changed = flip(data, 2);
    const bad = bouncyCastle('sig', cert, file('data-changed', changed), file('sig', signature));
    expect(bad.out).toMatch(/signature INVALID/);
    expect(bad.ok).toBe(verifySm2(pki.person.publicKey, changed, signature));
  });

  it('checks the maker signature of a seal Sigil issued, and refuses a changed seal as Sigil does', () => {
    const good = bouncyCastle('seal', file('seal.esl', seal));
    expect(good.out).toMatch(/seal-version 4\nseal-algorithm VALID\nseal-maker-signature VALID/);
    expect(good.ok).toBe(verifySeal(seal).valid);
    // A byte of the name, inside what the maker signed.
    const changed = flip(seal, seal.indexOf(Buffer.from('公章')) + 1);
    const bad = bouncyCastle('seal', file('seal-changed.esl', changed));
    expect(bad.out).toMatch(/seal-maker-signature INVALID/);
    const ours = verifySeal(changed);
    expect(ours.valid).toBe(bad.ok);
    expect(ours.checks.makerSignature).toBe(false);
  });

  it('checks a seal signature Sigil made — signer, seal, list, data hash — and refuses a changed one', async () => {
    const data = Buffer.from('<ofd:Signature/>');
    const signed = await signSesSignature({
      seal,
      signer: pki.person,
      data,
      propertyInfo: '/Doc_0/Signs/Sign_0/Signature.xml',
    });
    const good = bouncyCastle('ses', file('SignedValue.dat', signed), file('Signature.xml', data));
    expect(good.out).toMatch(/ses-signature VALID/);
    expect(good.out).toMatch(/ses-signer-listed VALID/);
    expect(good.out).toMatch(/ses-data-hash VALID/);
    expect(good.ok).toBe(verifySesSignature(signed, { data }).valid);
    expect(good.ok).toBe(true);

    const changedData = Buffer.from('<ofd:Signature />');
    const badData = bouncyCastle('ses', file('SignedValue.dat', signed), file('Signature-changed.xml', changedData));
    expect(badData.out).toMatch(/ses-data-hash INVALID/);
    expect(verifySesSignature(signed, { data: changedData }).valid).toBe(badData.ok);

    const changed = flip(signed, signed.indexOf(Buffer.from('/Doc_0/Signs')) + 3);
    const bad = bouncyCastle('ses', file('SignedValue-changed.dat', changed), file('Signature.xml', data));
    expect(bad.out).toMatch(/ses-signature INVALID/);
    const ours = verifySesSignature(changed, { data });
    expect(ours.valid).toBe(bad.ok);
    expect(ours.checks.signature).toBe(false);
  });

  it('agrees with Sigil on ofdrw’s v4 seal', () => {
    const der = readFileSync(join(import.meta.dirname, '../fixtures/ofd/UserV4.esl'));
    const verdict = bouncyCastle('seal', file('UserV4.esl', der));
    expect(verdict.out).toMatch(/seal-maker-signature VALID/);
    expect(verifySeal(der).checks.makerSignature).toBe(true);
  });
});
