// OFD signatures: ofdrw's signed files verify (every digest, nothing unprotected) and are refused
// after one byte of a protected file changes, with `openssl dgst -sm3` and BouncyCastle as the
// independent checks; our own signatures verify, a second leaves the first valid, and the
// cross-page seal puts one slice of the seal on each page's right edge.
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  extractText,
  listSignatures,
  openOfd,
  pageStamps,
  readPackage,
  renderPagePng,
  renderTemplateOfd,
  sesSignatureProvider,
  sesSignatureVerifier,
  signOfd,
  verifyOfd,
} from '../../src/ofd/index.js';
import { renderSealPng } from '../../src/seal-image/render.js';
import { issueSealFile } from '../../src/signing/index.js';
import { sm2TestPki, type Sm2TestPki } from '../signing/sm2-support.js';
import { seedTemplates } from '../../src/templates/index.js';
import {
  bouncyCastleSesCheck,
  fixture,
  opensslSm3,
  pythonUnzip,
  pythonZip,
  rawSm2Provider,
  requireTool,
  sealPng,
  tempDir,
} from './support.js';

const tmp = tempDir('sigil-ofd-sign-');
let bcCheck: ReturnType<typeof bouncyCastleSesCheck>;
beforeAll(() => {
  requireTool('openssl');
  requireTool('python3');
  bcCheck = bouncyCastleSesCheck(tmp);
}, 120_000);
afterAll(() => tmp.remove());

const SIGNED_FIXTURES = [
  ['SESV4SignDoc.ofd', 'Doc_0/Signs/Sign_0', 'Doc_0/Pages/Page_0/Content.xml', 5],
  ['v4signed.ofd', 'Doc_0/Signs/Sign_0', 'Doc_0/Tpls/Tpl_0/Content.xml', 13],
] as const;

describe('verifying OFD files signed by ofdrw', () => {
  it.each(SIGNED_FIXTURES)(
    '%s: every referenced digest holds and no file is unprotected',
    async (name, dir, _, count) => {
      const [report, ...more] = (await verifyOfd(fixture(name))).signatures;
      expect(more).toHaveLength(0);
      expect(report!.references).toHaveLength(count);
      expect(report!.references.every((r) => r.status === 'intact')).toBe(true);
      expect(report!.unprotected).toEqual([]);
      expect(report!.stamps).toHaveLength(1);
      // Without the seal-signature verifier the signed value is not judged, and so the signature is not called valid.
      expect(report!.signedValue.status).toBe('not_checked');
      expect(report!.problems).toEqual(['the signed value was not checked: no seal-signature verifier was given']);
      // BouncyCastle: the SES_Signature's dataHash is the SM3 of these Signature.xml bytes and its SM2 signature holds.
      const files = pythonUnzip(tmp, fixture(name));
      const bc = bcCheck(files.get(`${dir}/Signature.xml`)!, files.get(`${dir}/SignedValue.dat`)!);
      expect(bc.out).toMatch(/^VALID hash=true signature=true/);
      expect(bc.out).toContain(`propertyInfo=/${dir}/Signature.xml`);
    },
  );

  it.each(SIGNED_FIXTURES)(
    '%s: one byte changed in a protected file is found, and openssl’s SM3 agrees the digest differs',
    async (name, dir, target) => {
      const altered = pythonZip(tmp, { input: fixture(name), flip: { [target]: 60 } });
      const [report] = (await verifyOfd(altered)).signatures;
      expect(report!.references.find((r) => r.path === target)?.status).toBe('changed');
      expect(report!.problems).toContain(`/${target} was changed after signing (its digest differs)`);
      expect(report!.valid).toBe(false);
      const files = pythonUnzip(tmp, altered);
      const signatureXml = files.get(`${dir}/Signature.xml`)!.toString();
      const checkValue = new RegExp(`FileRef="/${target.replace(/\//g, '\\/')}"><ofd:CheckValue>([^<]+)<`, 'i').exec(
        signatureXml,
      )![1]!;
      expect(opensslSm3(tmp, files.get(target)!)).not.toBe(checkValue);
      expect(opensslSm3(tmp, pythonUnzip(tmp, fixture(name)).get(target)!)).toBe(checkValue);
    },
  );

  it('v4signed.ofd verifies in full with the GB/T 38540 verifier: digests, seal, signer, dataHash over Signature.xml', async () => {
    const [report] = (await verifyOfd(fixture('v4signed.ofd'), { verifier: sesSignatureVerifier() })).signatures;
    expect(report!.problems).toEqual([]);
    expect(report!.valid).toBe(true);
    expect(report!.signedValue).toMatchObject({ status: 'valid', signedAt: '2020-10-10T07:11:20.000Z' });
    expect(report!.signedValue.status === 'valid' && report!.signedValue.signer).toMatch(
      /CN=全国统一发票监制章国家税务总局重庆市税务局/,
    );
  });

  it('SESV4SignDoc.ofd: the digests and the SM2 signature hold, but its seal had expired when ofdrw signed (GB/T 38540 §7.3 d)', async () => {
    const [report] = (await verifyOfd(fixture('SESV4SignDoc.ofd'), { verifier: sesSignatureVerifier() })).signatures;
    expect(report!.references.every((r) => r.status === 'intact')).toBe(true);
    expect(report!.valid).toBe(false);
    expect(report!.signedValue.status === 'invalid' && report!.signedValue.reason).toMatch(
      /the seal is not valid at 2026-08-04T02:08:09\.000Z \(valid 2020-04-22T02:09:00\.000Z to 2022-04-22T02:09:00\.000Z\)/,
    );
  });

  it('refuses the signed value once a byte of Signature.xml changes, as BouncyCastle does', async () => {
    const original = fixture('v4signed.ofd');
    const files = pythonUnzip(tmp, original);
    const xml = Buffer.from(files.get('Doc_0/Signs/Sign_0/Signature.xml')!);
    xml[xml.indexOf('90.00 8.00')] = '5'.charCodeAt(0);
    const altered = pythonZip(tmp, { input: original, set: { 'Doc_0/Signs/Sign_0/Signature.xml': xml } });
    const [report] = (await verifyOfd(altered, { verifier: sesSignatureVerifier() })).signatures;
    expect(report!.references.every((r) => r.status === 'intact')).toBe(true);
    expect(report!.signedValue.status).toBe('invalid');
    expect(report!.valid).toBe(false);
    expect(bcCheck(xml, files.get('Doc_0/Signs/Sign_0/SignedValue.dat')!).out).toMatch(
      /^INVALID hash=false signature=true/,
    );
  });

  it('finds a file added to a signed package that the signature does not protect', async () => {
    const added = pythonZip(tmp, {
      input: fixture('SESV4SignDoc.ofd'),
      set: { 'Doc_0/Res/overlay.png': Buffer.from('not signed') },
    });
    const [report] = (await verifyOfd(added)).signatures;
    expect(report!.unprotected).toEqual(['Doc_0/Res/overlay.png']);
    expect(report!.problems).toContain(
      'a file is in the package that the signature does not protect: /Doc_0/Res/overlay.png',
    );
  });

  it('reports keyword.ofd’s two signatures as broken: the page was edited after ofdrw signed it', async () => {
    const { signatures } = await verifyOfd(fixture('keyword.ofd'));
    expect(signatures.map((s) => [s.id, s.type])).toEqual([
      ['2', 'Seal'],
      ['4', 'Sign'],
    ]);
    for (const s of signatures) {
      expect(s.references.find((r) => r.path === 'Doc_0/Pages/Page_0/Content.xml')?.status).toBe('changed');
      expect(s.unprotected).toContain('Doc_0/Res/Font7.ttf');
      expect(s.valid).toBe(false);
    }
  });
});

describe('signing OFD files', () => {
  const NOW = new Date('2026-03-01T02:00:00Z');
  let contract: Uint8Array;
  beforeAll(async () => {
    const seed = seedTemplates.find((s) => s.source.title === '采购合同')!;
    contract = (await renderTemplateOfd(seed.source, seed.example, { now: NOW })).ofd;
  }, 60_000);

  it('signs a contract: references every file, the stamp where asked, Seal.esl protected, and it verifies', async () => {
    const { provider, verifier } = rawSm2Provider();
    const signed = await signOfd(contract, {
      provider,
      stamps: [{ page: 2, boundary: [140, 200, 40, 40] }],
      signingTime: NOW,
    });
    const report = await verifyOfd(signed, { verifier });
    expect(report.valid).toBe(true);
    const [sig] = report.signatures;
    expect(sig).toMatchObject({ id: '1', type: 'Seal', path: 'Doc_0/Signs/Sign_0/Signature.xml', checkMethod: 'SM3' });
    expect(sig!.signatureDateTime).toBe('2026-03-01 10:00:00');
    expect(sig!.stamps).toEqual([
      { id: '2', pageRef: openOfd(contract).document.pages[2]!.id, pageIndex: 2, boundary: [140, 200, 40, 40] },
    ]);
    const names = readPackage(signed).names;
    expect(sig!.references.map((r) => r.path).sort()).toEqual(
      names
        .filter(
          (n) =>
            ![
              'Doc_0/Signs/Signatures.xml',
              'Doc_0/Signs/Sign_0/Signature.xml',
              'Doc_0/Signs/Sign_0/SignedValue.dat',
            ].includes(n),
        )
        .sort(),
    );
    expect(sig!.references.map((r) => r.path)).toContain('Doc_0/Signs/Sign_0/Seal.esl');
    // The digests as openssl computes them from the files as Python unzips them.
    const files = pythonUnzip(tmp, Buffer.from(signed));
    const xml = files.get('Doc_0/Signs/Sign_0/Signature.xml')!.toString();
    for (const path of ['OFD.xml', 'Doc_0/Pages/Page_2/Content.xml', 'Doc_0/Signs/Sign_0/Seal.esl']) {
      expect(xml).toContain(
        `<ofd:Reference FileRef="/${path}"><ofd:CheckValue>${opensslSm3(tmp, files.get(path)!)}</ofd:CheckValue>`,
      );
    }
    // OFD.xml gained its Signatures element; the text is untouched; the stamp carries the seal's picture.
    const reopened = openOfd(signed);
    expect(reopened.document.signaturesPath).toBe('Doc_0/Signs/Signatures.xml');
    expect(extractText(reopened)).toEqual(extractText(openOfd(contract)));
    expect(pageStamps(reopened, 2)).toHaveLength(1);
    expect(pageStamps(reopened, 2)[0]!.picture.type).toBe('PNG');
    expect(pageStamps(reopened, 0)).toHaveLength(0);
  });

  it('refuses our signature when Signature.xml is altered, and when a page changes', async () => {
    const { provider, verifier } = rawSm2Provider();
    const signed = Buffer.from(
      await signOfd(contract, { provider, stamps: [{ page: 0, boundary: [10, 10, 40, 40] }], signingTime: NOW }),
    );
    const files = pythonUnzip(tmp, signed);
    const xml = files
      .get('Doc_0/Signs/Sign_0/Signature.xml')!
      .toString()
      .replace('Boundary="10 10 40 40"', 'Boundary="90 10 40 40"');
    const [moved] = (
      await verifyOfd(pythonZip(tmp, { input: signed, set: { 'Doc_0/Signs/Sign_0/Signature.xml': xml } }), { verifier })
    ).signatures;
    expect(moved!.signedValue).toEqual({
      status: 'invalid',
      reason: 'the SM2 signature over Signature.xml does not verify',
    });
    expect(moved!.valid).toBe(false);
    const [edited] = (
      await verifyOfd(pythonZip(tmp, { input: signed, flip: { 'Doc_0/Pages/Page_1/Content.xml': 200 } }), { verifier })
    ).signatures;
    expect(edited!.problems).toEqual([
      '/Doc_0/Pages/Page_1/Content.xml was changed after signing (its digest differs)',
    ]);
  });

  it('adds a second signature that protects the first, and leaves the first valid', async () => {
    const first = rawSm2Provider();
    const second = rawSm2Provider();
    const once = await signOfd(contract, {
      provider: first.provider,
      stamps: [{ page: 2, boundary: [30, 200, 40, 40] }],
      signingTime: NOW,
    });
    const twice = await signOfd(once, {
      provider: second.provider,
      stamps: [{ page: 2, boundary: [140, 200, 40, 40] }],
      signingTime: NOW,
    });
    // Every file the first signature wrote keeps its bytes in the second package.
    const before = pythonUnzip(tmp, Buffer.from(once));
    const after = pythonUnzip(tmp, Buffer.from(twice));
    for (const [name, bytes] of before)
      if (name !== 'Doc_0/Signs/Signatures.xml') expect(after.get(name)?.equals(bytes), name).toBe(true);
    const file = openOfd(twice);
    expect(listSignatures(file)).toEqual({
      entries: [
        { id: '1', type: 'Seal', path: 'Doc_0/Signs/Sign_0/Signature.xml' },
        { id: '3', type: 'Seal', path: 'Doc_0/Signs/Sign_1/Signature.xml' },
      ],
      maxSignId: 4,
    });
    const verifier = {
      verify: async (input: Parameters<typeof first.verifier.verify>[0]) =>
        input.propertyInfo.includes('Sign_0') ? first.verifier.verify(input) : second.verifier.verify(input),
    };
    const report = await verifyOfd(twice, { verifier });
    expect(report.signatures.map((s) => [s.id, s.valid, s.problems])).toEqual([
      ['1', true, []],
      ['3', true, []],
    ]);
    expect(report.signatures[1]!.references.map((r) => r.path)).toEqual(
      expect.arrayContaining([
        'Doc_0/Signs/Sign_0/Signature.xml',
        'Doc_0/Signs/Sign_0/SignedValue.dat',
        'Doc_0/Signs/Sign_0/Seal.esl',
      ]),
    );
    expect(pageStamps(file, 2)).toHaveLength(2);
    // The first signature's value, changed after the second signed, breaks both: the second protects it.
    const broken = await verifyOfd(
      pythonZip(tmp, { input: Buffer.from(twice), flip: { 'Doc_0/Signs/Sign_0/SignedValue.dat': 10 } }),
      { verifier },
    );
    expect(broken.signatures.map((s) => s.valid)).toEqual([false, false]);
    expect(broken.signatures[1]!.problems).toEqual([
      '/Doc_0/Signs/Sign_0/SignedValue.dat was changed after signing (its digest differs)',
    ]);
  });

  it('does not let a later signature cover for a file added after the first one signed', async () => {
    const first = rawSm2Provider();
    const later = rawSm2Provider();
    const once = Buffer.from(await signOfd(contract, { provider: first.provider, signingTime: NOW }));
    const overlaid = pythonZip(tmp, { input: once, set: { 'Doc_0/Res/overlay.png': sealPng() } });
    const twice = await signOfd(overlaid, { provider: later.provider, signingTime: NOW });
    const verifier = {
      verify: async (input: Parameters<typeof first.verifier.verify>[0]) =>
        (input.propertyInfo.includes('Sign_0') ? first : later).verifier.verify(input),
    };
    const report = await verifyOfd(twice, { verifier });
    expect(report.signatures.map((s) => [s.path, s.unprotected])).toEqual([
      ['Doc_0/Signs/Sign_0/Signature.xml', ['Doc_0/Res/overlay.png']],
      ['Doc_0/Signs/Sign_1/Signature.xml', []],
    ]);
    expect(report.valid).toBe(false);
  });

  it('refuses a stamp box out of range and a cross-page seal over one page', async () => {
    const { provider } = rawSm2Provider();
    for (const boundary of [
      [0, 0, 0, 40],
      [0, 0, 40, Number.NaN],
      [0, 0, 5000, 40],
    ] as Array<[number, number, number, number]>)
      await expect(signOfd(contract, { provider, stamps: [{ page: 0, boundary }] })).rejects.toMatchObject({
        code: 'ofd_options_invalid',
      });
    await expect(signOfd(contract, { provider, crossPage: { pages: [1] } })).rejects.toThrow(
      'a cross-page seal needs at least two pages',
    );
  });

  it('adds a signature to ofdrw’s signed file and leaves ofdrw’s digests intact', async () => {
    const { provider, verifier } = rawSm2Provider();
    const signed = await signOfd(fixture('SESV4SignDoc.ofd'), {
      provider,
      stamps: [{ page: 0, boundary: [120, 50, 40, 40] }],
      signingTime: NOW,
    });
    const report = await verifyOfd(signed, {
      verifier: {
        verify: (input) =>
          input.propertyInfo.includes('Sign_1') ? verifier.verify(input) : Promise.resolve({ status: 'valid' }),
      },
    });
    expect(report.signatures.map((s) => [s.path, s.valid])).toEqual([
      ['Doc_0/Signs/Sign_0/Signature.xml', true],
      ['Doc_0/Signs/Sign_1/Signature.xml', true],
    ]);
    // ofdrw's signed value still verifies by BouncyCastle over its untouched Signature.xml.
    const files = pythonUnzip(tmp, Buffer.from(signed));
    expect(
      bcCheck(files.get('Doc_0/Signs/Sign_0/Signature.xml')!, files.get('Doc_0/Signs/Sign_0/SignedValue.dat')!).valid,
    ).toBe(true);
  });

  it('cuts a cross-page seal into one slice per page over the right edge', async () => {
    const { provider, verifier } = rawSm2Provider();
    const signed = await signOfd(contract, { provider, crossPage: { y: 120 }, signingTime: NOW });
    const report = await verifyOfd(signed, { verifier });
    expect(report.valid).toBe(true);
    const stamps = report.signatures[0]!.stamps;
    // UserV4.esl's picture is 40 × 40 mm; three pages → slices of 13.333 mm.
    expect(stamps.map((s) => [s.pageIndex, s.boundary, s.clip])).toEqual([
      [0, [196.667, 120, 40, 40], [0, 0, 13.333, 40]],
      [1, [183.333, 120, 40, 40], [13.333, 0, 13.333, 40]],
      [2, [170, 120, 40, 40], [26.667, 0, 13.333, 40]],
    ]);
    // Each page shows exactly its slice, ending at the page's right edge (210 mm).
    for (const s of stamps) expect(s.boundary[0] + s.clip![0] + s.clip![2]).toBeCloseTo(210, 2);
  });

  it('refuses a stamp on a page the document does not have', async () => {
    const { provider } = rawSm2Provider();
    await expect(signOfd(contract, { provider, stamps: [{ page: 7, boundary: [0, 0, 40, 40] }] })).rejects.toThrow(
      'the document has 3 pages; there is no page 8 to stamp',
    );
  });
});

describe('signing OFD files with GB/T 38540 seal signatures', () => {
  const NOW = new Date();
  NOW.setUTCMilliseconds(0);
  let pki: Sm2TestPki;
  let seal: Buffer;
  let contract: Uint8Array;
  beforeAll(async () => {
    pki = await sm2TestPki();
    const image = await renderSealPng({
      shape: 'round',
      company: '测试有限公司',
      type: '合同专用章',
      code: '3101150012345',
    });
    seal = await issueSealFile({
      maker: pki.maker,
      type: 2,
      name: '测试有限公司合同专用章',
      signers: [pki.sealHolder.certificate],
      validStart: new Date(NOW.getTime() - 86_400_000),
      validEnd: new Date(NOW.getTime() + 365 * 86_400_000),
      picture: { type: 'png', data: image.png, widthMm: image.widthMm, heightMm: image.heightMm },
    });
    const seed = seedTemplates.find((s) => s.source.title === '采购合同')!;
    contract = (await renderTemplateOfd(seed.source, seed.example, { now: NOW })).ofd;
  }, 120_000);

  it('signs with a seal and a cross-page seal; our verifier and BouncyCastle accept it; a later signature keeps it valid', async () => {
    const provider = sesSignatureProvider({ seal, signer: pki.sealHolder });
    const verifier = sesSignatureVerifier({ trustAnchors: [pki.root], intermediates: [pki.ca] });
    const once = await signOfd(contract, {
      provider,
      stamps: [{ page: 2, boundary: [40, 190, 40, 40] }],
      signingTime: NOW,
    });
    const twice = await signOfd(once, { provider, crossPage: { y: 100 }, signingTime: NOW });
    const report = await verifyOfd(twice, { verifier });
    expect(report.signatures.map((s) => [s.path, s.problems])).toEqual([
      ['Doc_0/Signs/Sign_0/Signature.xml', []],
      ['Doc_0/Signs/Sign_1/Signature.xml', []],
    ]);
    expect(report.valid).toBe(true);
    expect(report.signatures[0]!.signedValue).toMatchObject({
      status: 'valid',
      signer: expect.stringContaining('测试有限公司合同专用章'),
    });
    const files = pythonUnzip(tmp, Buffer.from(twice));
    for (const dir of ['Doc_0/Signs/Sign_0', 'Doc_0/Signs/Sign_1']) {
      expect(bcCheck(files.get(`${dir}/Signature.xml`)!, files.get(`${dir}/SignedValue.dat`)!).out).toBe(
        `VALID hash=true signature=true propertyInfo=/${dir}/Signature.xml`,
      );
    }
    // Seal.esl swapped for another seal: the package no longer matches the signature.
    const other = await issueSealFile({
      maker: pki.maker,
      type: 2,
      name: '另一枚章',
      signers: [pki.sealHolder.certificate],
      validStart: new Date(NOW.getTime() - 86_400_000),
      validEnd: new Date(NOW.getTime() + 86_400_000),
      picture: { type: 'png', data: sealPng(), widthMm: 40, heightMm: 40 },
    });
    const swapped = await verifyOfd(
      pythonZip(tmp, { input: Buffer.from(twice), set: { 'Doc_0/Signs/Sign_1/Seal.esl': other } }),
      { verifier },
    );
    expect(swapped.signatures[1]!.problems).toEqual([
      '/Doc_0/Signs/Sign_1/Seal.esl was changed after signing (its digest differs)',
      'the signed value does not verify: Seal.esl is not the seal the signature was made with',
    ]);
    // A verifier that trusts another root does not call the signature valid.
    const stranger = await sm2TestPki();
    const untrusted = await verifyOfd(twice, {
      verifier: sesSignatureVerifier({ trustAnchors: [stranger.root], intermediates: [pki.ca] }),
    });
    expect(untrusted.signatures.every((s) => !s.valid)).toBe(true);

    // The pages drawn with their stamps, kept for a look by eye (test-output/ is git-ignored).
    const file = openOfd(twice);
    mkdirSync('test-output/ofd', { recursive: true });
    for (const index of [0, 2]) {
      const { png } = await renderPagePng(file, index, { stamps: pageStamps(file, index) });
      writeFileSync(`test-output/ofd/signed-contract-p${index + 1}.png`, png);
    }
    expect(pageStamps(file, 2)).toHaveLength(2);
    expect(pageStamps(file, 1)).toHaveLength(1);
  });

  it('refuses to sign with a signer the seal does not list', async () => {
    await expect(
      signOfd(contract, {
        provider: sesSignatureProvider({ seal, signer: pki.outsider }),
        stamps: [{ page: 0, boundary: [0, 0, 40, 40] }],
      }),
    ).rejects.toThrow(/is not on the seal's list of signers/);
  });
});
