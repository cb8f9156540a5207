import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderTemplateOfd } from '../../src/ofd/index.js';
import { decodeSeal } from '../../src/signing/index.js';
import { pythonUnzip, pythonZip, tempDir } from '../ofd/support.js';
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
  browserRequired,
  DESKTOP,
  expectNoHorizontalScroll,
  hasChromium,
  PHONE,
  screenshotPage,
  signIn,
  text,
  useBrowserSuite,
  viaMenu,
  waitForText,
} from './browser-support.js';

const COURT = '北京市海淀区人民法院';

/**
 * Issue 15 item 6 in the console (Debian's Chromium): a judge holding a grant of the court's
 * electronic seal stamps an OFD judgment on a phone — its page drawn by the server with the seal's
 * spot on it —, downloads the signed .ofd and the platform's verifier finds it valid; the seal's
 * administrator issues and downloads the seal's .esl on a desktop, and it decodes as a GB/T 38540
 * seal with the seal's name. Screenshots land in test-output/stamp-ofd-*.png.
 */
describe.skipIf(!hasChromium && !browserRequired)('stamping an OFD in the console', () => {
  const suite = useBrowserSuite({ screenshots: 'stamp-ofd', groupName: '法院集团', timeoutMs: 20_000 });
  let world: World;
  let group: GroupFixture;
  let base: string;
  let judgment: Buffer;
  let seal: { id: string; name: string };
  let clerk: { id: string; email: string; token: string };
  let judge: { id: string; email: string; token: string };

  beforeAll(async () => {
    ({ world, group, base } = suite);
    const court = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: COURT });
    clerk = await buildUser(world, { groupId: group.groupId, companyId: court.id, roles: [{ role: 'seal_admin' }] });
    judge = await buildUser(world, { groupId: group.groupId, companyId: court.id });
    seal = await buildSeal(world, {
      groupId: group.groupId,
      companyId: court.id,
      custodianIds: [clerk.id],
      name: `${COURT}印`,
      type: 'official',
    });
    const image = await client(world, clerk.token).post('/api/v1/seal-images/generate', {
      shape: 'round',
      company: COURT,
      type: '',
    });
    await world.db
      .updateTable('seals')
      .set({ image_sha256: image.body.sha256, image_media_type: image.body.mediaType })
      .where('id', '=', seal.id)
      .execute();
    const granted = await client(world, clerk.token).post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'user', userId: judge.id },
      categories: ['legal'],
    });
    expect(granted.status, JSON.stringify(granted.body)).toBe(201);
    judgment = Buffer.from(
      (
        await renderTemplateOfd(
          {
            title: '民事判决书',
            variables: [{ name: 'caseNumber', label: '案号', type: 'text' }],
            body: `# ${COURT}\n# 民事判决书\n\n{{caseNumber}}\n\n原告华夏贸易有限公司与被告北方物资有限公司买卖合同纠纷一案，本案现已审理终结。\n\n审判员　李明\n`,
          },
          { caseNumber: '（2026）京0108民初12345号' },
        )
      ).ofd,
    );
  }, 120_000);

  it('on a phone: a judge with a grant stamps an OFD at the bottom right of its page, downloads it, and it verifies', async ({
    onTestFailed,
  }) => {
    const phone = await suite.newPage(PHONE, onTestFailed, 'judge');
    await phone.goto(`${base}/stamp`);
    await signIn(phone, judge.email, DEFAULT_PASSWORD);
    await waitForText(phone, 'page-title', (v) => v === 'Stamp a document');
    expect(await phone.getByTestId('stamp-file-input').getAttribute('accept')).toContain('.ofd');
    // Browsers know no type for .ofd: the picker gives the file with none.
    await phone
      .getByTestId('stamp-file-input')
      .setInputFiles({ name: '民事判决书.ofd', mimeType: '', buffer: judgment });
    await waitForText(phone, 'stamp-document', (v) => v === '民事判决书.ofd');

    // Keyword placement (the default) already shows the page as the server draws it.
    await phone.getByTestId('ofd-preview').getByTestId('ofd-page-image').waitFor();
    await phone.locator('label.segment', { has: phone.getByTestId('stamp-mode-position') }).click();
    const drawn = phone.getByTestId('stamp-preview').getByTestId('ofd-page-image');
    await drawn.waitFor();
    await expect
      // The PNG decoded: an <img> has a natural width only once its picture has loaded.
      .poll(() => drawn.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth))
      .toBeGreaterThan(100);
    expect(await phone.getByTestId('stamp-preview').locator('.stamp-spot').count()).toBe(1);
    expect(await text(phone, 'stamp-ofd-level')).toContain('GB/T 38540');
    await expectNoHorizontalScroll(phone);
    await screenshotPage(phone, 'stamp-ofd-phone-form.png');
    await phone.getByTestId('lang-zh').click();
    await waitForText(phone, 'page-title', (v) => v === '电子盖章');
    expect(await text(phone, 'stamp-ofd-level')).toContain('PAdES 级别仅适用于 PDF');
    await phone.getByTestId('lang-en').click();
    await waitForText(phone, 'page-title', (v) => v === 'Stamp a document');

    await phone.getByTestId('stamp-submit').click();
    await expect
      .poll(() => phone.getByTestId('stamp-verification').getAttribute('data-intact'), { timeout: 20_000 })
      .toBe('true');
    expect(await phone.getByTestId('stamp-verification').getAttribute('data-format')).toBe('ofd');
    expect(await text(phone, 'ofd-seal-name')).toBe(seal.name);
    expect(await phone.locator('[data-testid=ofd-checks] [data-ok=false]').count()).toBe(0);
    expect(await text(phone, 'stamp-download')).toBe('Download the signed OFD');
    await expectNoHorizontalScroll(phone);
    await screenshotPage(phone, 'stamp-ofd-phone-result.png');

    const downloading = phone.waitForEvent('download');
    await phone.getByTestId('stamp-download').click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe('民事判决书-signed.ofd');
    const signed = readFileSync((await download.path())!);
    expect(signed.subarray(0, 2).toString('latin1')).toBe('PK');

    // The platform's verifier on the downloaded bytes: one valid seal signature by this seal,
    // its stamp on the (only) page, and the archive holds the file.
    const verified = await world.app.inject({
      method: 'POST',
      url: '/api/v1/verifications',
      headers: { authorization: `Bearer ${judge.token}`, 'content-type': 'application/ofd' },
      payload: signed,
    });
    expect(verified.statusCode, verified.body).toBe(200);
    const report = verified.json();
    expect(report).toMatchObject({ format: 'ofd', verdict: 'valid', archive: { found: true } });
    expect(report.signatures).toHaveLength(1);
    expect(report.signatures[0]).toMatchObject({ status: 'valid', chainTrusted: true, seal: { name: seal.name } });
    expect(report.signatures[0].stamps[0].page).toBe(0);
    // The signature the console made is the one on record: by the grant, no PAdES level asked of an OFD.
    const record = (
      await client(world, judge.token).get(
        `/api/v1/signatures/${await phone.getByTestId('stamp-result').getAttribute('data-signature')}`,
      )
    ).body;
    expect(record).toMatchObject({ sealId: seal.id, category: 'legal', documentName: '民事判决书.ofd' });

    // The members' verification page takes the .ofd: green with the seal; a copy whose page was
    // changed after sealing is red and names the changed file.
    const tmp = tempDir('sigil-stamp-ofd-');
    const files = pythonUnzip(tmp, signed);
    const content = [...files.keys()].find((p) => /Pages\/Page_0\/Content\.xml$/.test(p))!;
    const altered = pythonZip(tmp, {
      input: signed,
      set: { [content]: files.get(content)!.toString().replace('李明', '张三') },
    });
    tmp.remove();
    await viaMenu(phone, 'nav-verify');
    await waitForText(phone, 'page-title', (v) => v === 'Verify a PDF');
    expect(await phone.getByTestId('verify-file-input').getAttribute('accept')).toContain('.ofd');
    await phone
      .getByTestId('verify-file-input')
      .setInputFiles({ name: '民事判决书-signed.ofd', mimeType: '', buffer: signed });
    await phone.locator('[data-testid=verify-verdict][data-verdict=valid]').waitFor();
    expect(await text(phone, 'ofd-seal-name')).toBe(seal.name);
    expect(await phone.getByTestId('verify-archive').getAttribute('data-found')).toBe('true');
    await phone
      .getByTestId('verify-file-input')
      .setInputFiles({ name: '民事判决书-改.ofd', mimeType: '', buffer: altered });
    await phone.locator('[data-testid=verify-verdict][data-verdict=invalid]').waitFor();
    expect(await text(phone, 'ofd-changes')).toMatch(/Content\.xml changed after sealing/);
    expect(await phone.locator('[data-testid=ofd-checks] [data-ok=false]').count()).toBe(1);
    await expectNoHorizontalScroll(phone);
    await screenshotPage(phone, 'stamp-ofd-phone-verify-altered.png');
  });

  it("on a desktop: the seal's administrator issues and downloads its .esl; a judge sees no such card", async ({
    onTestFailed,
  }) => {
    const desk = await suite.newPage(DESKTOP, onTestFailed, 'clerk');
    await desk.goto(`${base}/seals/${seal.id}`);
    await signIn(desk, clerk.email, DEFAULT_PASSWORD);
    await desk.getByTestId('seal-esl').waitFor();
    expect(await desk.getByTestId('seal-esl').getAttribute('data-state')).toBe('none');
    await desk.getByTestId('esl-issue').click();
    await waitForText(desk, 'esl-name', (v) => v === seal.name);
    expect(await text(desk, 'esl-maker')).toContain('制章者');
    expect(await text(desk, 'esl-validity')).toMatch(/\d{4}/);
    const esId = await text(desk, 'esl-id');
    expect(esId.length).toBeGreaterThan(0);
    await expectNoHorizontalScroll(desk);
    await screenshotPage(desk, 'stamp-ofd-desktop-esl.png');

    const downloading = desk.waitForEvent('download');
    await desk.getByTestId('esl-download').click();
    const download = await downloading;
    expect(download.suggestedFilename()).toMatch(/\.esl$/);
    const decoded = decodeSeal(readFileSync((await download.path())!));
    expect(decoded.version).toBe(4);
    expect(decoded.name).toBe(seal.name);
    expect(decoded.id).toBe(esId);

    // In Chinese the card is 电子印章文件 (.esl); one who may not manage the seal is not shown it.
    await desk.getByTestId('lang-zh').click();
    await waitForText(desk, 'seal-esl', (v) => v.includes('电子印章文件 (.esl)'));
    const other = await suite.newPage(PHONE, onTestFailed, 'judge-seal');
    await other.goto(`${base}/seals/${seal.id}`);
    await signIn(other, judge.email, DEFAULT_PASSWORD);
    await other.waitForTimeout(500);
    expect(await other.getByTestId('seal-esl').count()).toBe(0);
  });
});
