import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { signPdf } from '../../src/signing/pades.js';
import { buildPdf } from '../signing/pdf-fixtures.js';
import { testPki } from '../signing/support.js';
import {
  buildCompany,
  buildSeal,
  buildUser,
  client,
  DEFAULT_PASSWORD,
  type GroupFixture,
  type World,
} from '../support/world.js';
import {
  useBrowserSuite,
  browserRequired,
  DESKTOP,
  expectNoHorizontalScroll,
  hasChromium,
  PHONE,
  screenshotPage,
  signIn,
  text,
  viaMenu,
  waitForText,
} from './browser-support.js';

/**
 * Stamping and verifying in the console, in Debian's Chromium against a real server on a
 * loopback port: an employee whose application to use an electronic contract seal on a named
 * PDF was approved opens it on a 390-px phone, is told plainly when the keyword is not in the
 * document, stamps the PDF over 甲方（盖章）, downloads the signed file and sees its uses go
 * down; the verification page reports that file intact, sealed by the seal, time-stamped and
 * held by the archive, and a copy with one byte changed inside the signed range not intact (in
 * both languages). The seal's custodian sees the certificate on the file card and issues one
 * for a seal that has none. Screenshots land in test-output/signing-*.png.
 */

describe.skipIf(!hasChromium && !browserRequired)('stamping and verification in a browser', () => {
  const suite = useBrowserSuite({ screenshots: 'signing', groupName: 'Huaxia Group', timeoutMs: 15_000 });
  const newPage = suite.newPage;
  let world: World;
  let group: GroupFixture;
  let base: string;
  beforeAll(() => {
    ({ world, group, base } = suite);
  });

  /** A company with an electronic contract seal (impression on file), its custodian, an HQ approver, an employee granted the seal for sales, and a one-level flow. */
  async function scene() {
    const suffix = Date.now() % 100000;
    const company = await buildCompany(world, {
      groupId: group.groupId,
      parent: group.hq,
      name: '华夏贸易有限公司',
      code: `HX-${suffix}`,
    });
    const keeper = await buildUser(world, {
      groupId: group.groupId,
      companyId: company.id,
      roles: [{ role: 'seal_admin' }],
      name: 'Kim Keeper',
    });
    const approver = await buildUser(world, {
      groupId: group.groupId,
      companyId: group.hq.id,
      roles: [{ role: 'seal_admin' }],
      name: 'Hannah Headoffice',
    });
    const employee = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: 'Eric Employee' });
    const seal = await buildSeal(world, {
      groupId: group.groupId,
      companyId: company.id,
      custodianIds: [keeper.id],
      name: '华夏贸易合同专用章',
      code: `HX-HT-${suffix}`,
      kind: 'electronic',
      type: 'contract',
    });
    const spare = await buildSeal(world, {
      groupId: group.groupId,
      companyId: company.id,
      custodianIds: [keeper.id],
      name: '华夏贸易财务专用章',
      code: `HX-CW-${suffix}`,
      kind: 'electronic',
      type: 'finance',
    });
    const keeperApi = client(world, keeper.token);
    const image = await keeperApi.post('/api/v1/seal-images/generate', {
      shape: 'round',
      company: '华夏贸易有限公司',
      type: '合同专用章',
    });
    expect(image.status).toBe(201);
    await world.db
      .updateTable('seals')
      .set({ image_sha256: image.body.sha256, image_media_type: image.body.mediaType })
      .where('id', '=', seal.id)
      .execute();
    expect(
      (
        await keeperApi.post(`/api/v1/seals/${seal.id}/grants`, {
          grantee: { type: 'user', userId: employee.id },
          categories: ['sales'],
        })
      ).status,
    ).toBe(201);
    const flow = await client(world, approver.token).post('/api/v1/flows', {
      companyId: group.hq.id,
      category: 'sales',
      name: 'Sales contracts',
      definition: {
        levels: [{ name: 'HQ seal office', mode: 'any', approvers: [{ type: 'user', userId: approver.id }] }],
      },
    });
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);
    return { company, keeper, approver, employee, seal: { ...seal, code: `HX-HT-${suffix}` }, spare };
  }

  it(
    'an employee stamps the approved contract by keyword on a phone, downloads it, and the verification page tells the signed file from a tampered copy',
    { timeout: 240_000 },
    async ({ onTestFailed }) => {
      const s = await scene();

      // The contract, uploaded and named in an application for two uses, approved by HQ (through the API).
      const contract = buildPdf({
        pages: 2,
        lines: ['Sales contract No. 2026-001', 'Sigil test document'],
        cjkLines: ['甲方（盖章）：华夏贸易有限公司', '乙方（盖章）：'],
        compress: false,
      });
      const uploaded = await world.app.inject({
        method: 'POST',
        url: `/api/v1/documents/uploads?name=${encodeURIComponent('销售合同.pdf')}`,
        headers: { authorization: `Bearer ${s.employee.token}`, 'content-type': 'application/pdf' },
        payload: contract,
      });
      expect(uploaded.statusCode, uploaded.body).toBe(201);
      const documentSha = uploaded.json().sha256 as string;
      const applied = await client(world, s.employee.token).post('/api/v1/applications', {
        sealIds: [s.seal.id],
        category: 'sales',
        reason: '签署销售合同',
        uses: 2,
        photosPerUse: 0,
        documents: [{ sha256: documentSha, name: '销售合同.pdf' }],
      });
      expect(applied.status, JSON.stringify(applied.body)).toBe(201);
      const task = (await client(world, s.approver.token).get('/api/v1/tasks?status=pending')).body.items.find(
        (x: { applicationId: string }) => x.applicationId === applied.body.id,
      );
      expect((await client(world, s.approver.token).post(`/api/v1/tasks/${task.id}/approve`, {})).body.status).toBe(
        'approved',
      );

      // The employee, on a phone, opens the approved application: the document carries a Stamp action.
      const phone = await newPage(PHONE, onTestFailed, 'employee');
      await phone.goto(`${base}/applications/${applied.body.id}`);
      await signIn(phone, s.employee.email, DEFAULT_PASSWORD);
      await waitForText(phone, 'application-status', (v) => v === 'Approved');
      await waitForText(phone, 'application-documents', (v) => v.includes('销售合同.pdf'));
      expect(await phone.getByTestId('signed-copy').count()).toBe(0);
      await expectNoHorizontalScroll(phone);
      await screenshotPage(phone, 'signing-phone-application.png');
      await phone.getByTestId('application-document-stamp').click();
      await waitForText(phone, 'page-title', (v) => v === 'Stamp a document');
      expect(await text(phone, 'stamp-document')).toBe('销售合同.pdf');
      expect(await text(phone, 'stamp-seal')).toContain('华夏贸易合同专用章');
      expect(await text(phone, 'stamp-uses')).toBe('2 of 2 uses left');
      // B-T is the level offered first.
      expect(await phone.getByTestId('stamp-level').inputValue()).toBe('B-T');

      // Sending without a keyword says what is missing, in place.
      await phone.getByTestId('stamp-submit').click();
      await waitForText(phone, 'stamp-placement', (v) => v.includes('must not be empty'));

      // A keyword the document does not contain is refused plainly, and no use is spent.
      await phone.getByTestId('stamp-keyword').fill('丙方（盖章）');
      await phone.getByTestId('stamp-submit').click();
      await expect
        .poll(() => phone.getByTestId('stamp-problem').getAttribute('data-code'))
        .toBe('pdf_keyword_not_found');
      expect(await text(phone, 'stamp-problem')).toContain('丙方（盖章）');
      await expectNoHorizontalScroll(phone);
      await screenshotPage(phone, 'signing-phone-keyword-missing.png');
      expect(
        (await client(world, s.employee.token).get(`/api/v1/applications/${applied.body.id}`)).body.authorizations[0],
      ).toMatchObject({ usesTotal: 2, usesConsumed: 0 });

      // The right keyword, moved 10 mm to the right, with a reason.
      await phone.getByTestId('stamp-keyword').fill('甲方（盖章）');
      await phone.getByTestId('stamp-offset-right').fill('10');
      await phone.getByTestId('stamp-reason').fill('合同盖章');
      await expectNoHorizontalScroll(phone);
      await screenshotPage(phone, 'signing-phone-stamp-form.png');
      await phone.getByTestId('stamp-submit').click();

      // Stamped: the signed file to download, and the verifier's report on it.
      await phone.getByTestId('stamp-result').waitFor();
      expect(await text(phone, 'stamp-done')).toContain('华夏贸易合同专用章');
      await expect
        .poll(() => phone.getByTestId('stamp-verification').getAttribute('data-intact'), { timeout: 20_000 })
        .toBe('true');
      expect(await text(phone, 'verify-signer')).toBe('华夏贸易合同专用章');
      await waitForText(phone, 'stamp-uses-left', (v) => v.includes('1 of 2 uses left'));
      await expectNoHorizontalScroll(phone);
      await screenshotPage(phone, 'signing-phone-stamped.png');
      const downloading = phone.waitForEvent('download');
      await phone.getByTestId('stamp-download').click();
      const download = await downloading;
      expect(download.suggestedFilename()).toBe('销售合同-signed.pdf');
      const signed = readFileSync((await download.path())!);
      expect(signed.subarray(0, contract.length).equals(contract)).toBe(true);
      const applicationAfter = (await client(world, s.employee.token).get(`/api/v1/applications/${applied.body.id}`))
        .body;
      expect(applicationAfter.authorizations[0]).toMatchObject({ usesTotal: 2, usesConsumed: 1 });

      // Back on the application, the signed copy sits under its document and the uses went down.
      await phone.getByTestId('stamp-back').click();
      await waitForText(phone, 'signed-copy', (v) => v.includes('Signatures: 1'));
      expect(await text(phone, 'authorization')).toContain('1 of 2 uses made');
      await expectNoHorizontalScroll(phone);
      await screenshotPage(phone, 'signing-phone-application-signed.png');

      // Anyone signed in verifies a PDF from the menu: the downloaded file is intact, sealed by the seal.
      await viaMenu(phone, 'nav-verify');
      await waitForText(phone, 'page-title', (v) => v === 'Verify a PDF');
      await phone
        .getByTestId('verify-file-input')
        .setInputFiles({ name: '销售合同-signed.pdf', mimeType: 'application/pdf', buffer: signed });
      await expect
        .poll(() => phone.getByTestId('verify-verdict').getAttribute('data-verdict'), { timeout: 20_000 })
        .toBe('intact');
      expect(await text(phone, 'verify-signer')).toBe('华夏贸易合同专用章');
      expect(await text(phone, 'verify-subject')).toContain('O=华夏贸易有限公司');
      expect(await phone.getByTestId('verify-valid').first().textContent()).toBe('Valid');
      expect(await phone.getByTestId('verify-chain').first().getAttribute('data-ok')).toBe('true');
      expect(await phone.getByTestId('verify-time').first().getAttribute('data-tsa')).toBe('true');
      expect(await phone.getByTestId('verify-revocation').first().getAttribute('data-ok')).toBe('true');
      expect(await phone.getByTestId('verify-impression').count()).toBeGreaterThanOrEqual(1);
      expect(await phone.getByTestId('verify-archive').getAttribute('data-found')).toBe('true');
      expect(await text(phone, 'verify-archive-signature')).toContain('Eric Employee');
      await expectNoHorizontalScroll(phone);
      await screenshotPage(phone, 'signing-phone-verify-intact.png');

      // One byte changed inside the signed range (a letter of the contract text): not intact, and not in the archive.
      const at = signed.indexOf('Sales contract');
      expect(at).toBeGreaterThan(0);
      const tampered = Buffer.from(signed);
      tampered[at] = 'T'.charCodeAt(0);
      await phone
        .getByTestId('verify-file-input')
        .setInputFiles({ name: '销售合同-tampered.pdf', mimeType: 'application/pdf', buffer: tampered });
      await expect
        .poll(() => phone.getByTestId('verify-verdict').getAttribute('data-verdict'), { timeout: 20_000 })
        .toBe('broken');
      expect(await phone.getByTestId('verify-signature').first().getAttribute('data-valid')).toBe('false');
      expect(await phone.getByTestId('verify-archive').getAttribute('data-found')).toBe('false');
      await expectNoHorizontalScroll(phone);
      await screenshotPage(phone, 'signing-phone-verify-tampered.png');
      // The same verdict in Chinese.
      await phone.getByTestId('lang-zh').click();
      await waitForText(phone, 'verify-verdict', (v) => v.startsWith('文件不完整'));
      expect(await text(phone, 'verify-valid')).toBe('无效');
      await expectNoHorizontalScroll(phone);
      await screenshotPage(phone, 'signing-phone-verify-tampered-zh.png');
      await phone.getByTestId('lang-en').click();

      // Intact, but by a signer under a root this platform does not trust: amber, never green.
      const stranger = await testPki();
      const foreign = await signPdf(buildPdf({ seed: 21 }), { signer: stranger.sealRsa.signer });
      await phone
        .getByTestId('verify-file-input')
        .setInputFiles({ name: 'foreign.pdf', mimeType: 'application/pdf', buffer: foreign });
      await expect
        .poll(() => phone.getByTestId('verify-verdict').getAttribute('data-verdict'), { timeout: 20_000 })
        .toBe('unknown-signer');
      expect(await phone.getByTestId('verify-valid').first().getAttribute('data-status')).toBe('unknown-signer');
      expect(await text(phone, 'verify-valid')).toBe('Unknown signer');
      expect(await phone.getByTestId('verify-chain').first().getAttribute('data-ok')).toBe('false');
      expect(await phone.locator('.verify-verdict.alert-success').count()).toBe(0);
      await screenshotPage(phone, 'signing-phone-verify-unknown-signer.png');

      // The grant also lets the employee stamp directly: from the menu, a PDF chosen on the phone,
      // the seal at the bottom right of its last page (the page outline shows where).
      await viaMenu(phone, 'nav-stamp');
      await waitForText(phone, 'page-title', (v) => v === 'Stamp a document');
      await phone.locator(`[data-testid="stamp-seal-option"][data-seal-code="${s.seal.code}"]`).waitFor();
      expect(await phone.getByTestId('stamp-category').inputValue()).toBe('sales');
      await phone.getByTestId('stamp-file-input').setInputFiles({
        name: '采购合同.pdf',
        mimeType: 'application/pdf',
        buffer: buildPdf({ pages: 3, seed: 77, lines: ['Purchase contract No. 2026-017'] }),
      });
      await waitForText(phone, 'stamp-document', (v) => v === '采购合同.pdf');
      await phone.locator('label.segment', { has: phone.getByTestId('stamp-mode-position') }).click();
      await phone.getByTestId('stamp-preview').waitFor();
      expect(await text(phone, 'stamp-placement')).toContain('Pages in the document: 3');
      expect(await text(phone, 'stamp-preview')).toContain('page 3');
      await expectNoHorizontalScroll(phone);
      await screenshotPage(phone, 'signing-phone-grant-form.png');
      await phone.getByTestId('lang-zh').click();
      await waitForText(phone, 'page-title', (v) => v === '电子盖章');
      expect(await text(phone, 'stamp-preview')).toContain('第 3 页');
      await expectNoHorizontalScroll(phone);
      await screenshotPage(phone, 'signing-phone-grant-form-zh.png');
      await phone.getByTestId('lang-en').click();
      await waitForText(phone, 'page-title', (v) => v === 'Stamp a document');
      await phone.getByTestId('stamp-submit').click();
      await expect
        .poll(() => phone.getByTestId('stamp-verification').getAttribute('data-intact'), { timeout: 20_000 })
        .toBe('true');
      expect(await text(phone, 'verify-signer')).toBe('华夏贸易合同专用章');
      const direct = (
        await client(world, s.employee.token).get(
          `/api/v1/signatures/${await phone.getByTestId('stamp-result').getAttribute('data-signature')}`,
        )
      ).body;
      expect(direct).toMatchObject({
        sealId: s.seal.id,
        authorizationId: null,
        category: 'sales',
        level: 'B-T',
        documentName: '采购合同.pdf',
      });
      expect(direct.grantId).toBeTruthy();
      await expectNoHorizontalScroll(phone);
      await screenshotPage(phone, 'signing-phone-grant-stamped.png');

      // The custodian, at a desk: the seal's certificate on its file card, the stamp in its history;
      // a seal without a certificate gets one issued from the card.
      const desk = await newPage(DESKTOP, onTestFailed, 'keeper');
      await desk.goto(`${base}/seals/${s.seal.id}`);
      await signIn(desk, s.keeper.email, DEFAULT_PASSWORD);
      await expect.poll(() => desk.getByTestId('seal-certificate').getAttribute('data-state')).toBe('active');
      expect(await text(desk, 'certificate-subject')).toBe('CN=华夏贸易合同专用章, O=华夏贸易有限公司');
      expect(await text(desk, 'certificate-status')).toBe('Valid');
      // Two stamps: under the application, then under the grant.
      expect(await desk.locator('[data-testid="history-entry"][data-action="document.signed"]').count()).toBe(2);
      expect(
        await desk.locator('[data-testid="history-entry"][data-action="document.signed"]').first().textContent(),
      ).toContain('Document signed');
      await screenshotPage(desk, 'signing-desktop-seal-certificate.png');
      await desk.goto(`${base}/seals/${s.spare.id}`);
      await expect.poll(() => desk.getByTestId('seal-certificate').getAttribute('data-state')).toBe('none');
      await desk.getByTestId('certificate-issue').click();
      await expect.poll(() => desk.getByTestId('seal-certificate').getAttribute('data-state')).toBe('active');
      expect(await text(desk, 'certificate-subject')).toBe('CN=华夏贸易财务专用章, O=华夏贸易有限公司');
      await waitForText(desk, 'seal-history', (v) => v.includes('Certificate issued'));
      await desk.getByTestId('lang-zh').click();
      await waitForText(desk, 'seal-history', (v) => v.includes('签发证书'));
      await screenshotPage(desk, 'signing-desktop-certificate-issued-zh.png');
    },
  );
});
