import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderTemplateOfd } from '../../src/ofd/index.js';
import { pythonUnzip, pythonZip, tempDir } from '../ofd/support.js';
import { buildCompany, buildSeal, buildUser, client, type GroupFixture, type World } from '../support/world.js';
import {
  browserRequired,
  DESKTOP,
  expectNoHorizontalScroll,
  hasChromium,
  PHONE,
  screenshotPage,
  text,
  useBrowserSuite,
  waitForText,
} from './browser-support.js';

const COURT = '北京市海淀区人民法院';

/**
 * The done-when on the public page (/verify) in Debian's Chromium: a judgment (判决书)
 * sealed as OFD with a court seal through the API is uploaded by a visitor with no account and
 * shows green with the seal's name and the court, in English and in Chinese; a copy with one page
 * changed shows red and names the changed file. Screenshots land in test-output/verify-ofd-*.png.
 */
describe.skipIf(!hasChromium && !browserRequired)('the public verification page with an OFD', () => {
  const suite = useBrowserSuite({ screenshots: 'verify-ofd', groupName: '法院集团', timeoutMs: 20_000 });
  let world: World;
  let group: GroupFixture;
  let base: string;
  let signed: Buffer;
  let altered: Buffer;
  let sealName: string;

  beforeAll(async () => {
    ({ world, group, base } = suite);
    const court = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: COURT });
    const clerk = await buildUser(world, {
      groupId: group.groupId,
      companyId: court.id,
      roles: [{ role: 'seal_admin' }],
    });
    const judge = await buildUser(world, { groupId: group.groupId, companyId: court.id });
    const seal = await buildSeal(world, {
      groupId: group.groupId,
      companyId: court.id,
      custodianIds: [clerk.id],
      name: `${COURT}印`,
      type: 'official',
    });
    sealName = seal.name;
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
    await client(world, clerk.token).post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'user', userId: judge.id },
      categories: ['legal'],
    });
    const { ofd } = await renderTemplateOfd(
      {
        title: '民事判决书',
        variables: [{ name: 'caseNumber', label: '案号', type: 'text' }],
        body: `# ${COURT}\n# 民事判决书\n\n{{caseNumber}}\n\n原告华夏贸易有限公司与被告北方物资有限公司买卖合同纠纷一案，本案现已审理终结。判决如下：被告于本判决生效之日起十日内向原告支付货款。\n\n审判员　李明\n`,
      },
      { caseNumber: '（2026）京0108民初12345号' },
    );
    const uploaded = await world.app.inject({
      method: 'POST',
      url: '/api/v1/documents/uploads?name=judgment.ofd',
      headers: { authorization: `Bearer ${judge.token}`, 'content-type': 'application/ofd' },
      payload: Buffer.from(ofd),
    });
    const signature = await client(world, judge.token).post('/api/v1/signatures', {
      documentSha256: uploaded.json().sha256,
      sealId: seal.id,
      category: 'legal',
      appearance: { type: 'keyword', keyword: '审判员' },
    });
    expect(signature.status, JSON.stringify(signature.body)).toBe(201);
    signed = (
      await world.app.inject({
        method: 'GET',
        url: `/api/v1/signatures/${signature.body.id}/document`,
        headers: { authorization: `Bearer ${judge.token}` },
      })
    ).rawPayload;
    const tmp = tempDir('sigil-verify-ofd-');
    const files = pythonUnzip(tmp, signed);
    const page = [...files.keys()].find((p) => /Pages\/Page_0\/Content\.xml$/.test(p))!;
    altered = pythonZip(tmp, { input: signed, set: { [page]: files.get(page)!.toString().replace('李明', '张三') } });
    tmp.remove();
  }, 120_000);

  async function open(page: Page): Promise<void> {
    const response = await page.goto(`${base}/verify`);
    expect(response?.status()).toBe(200);
    await page.getByTestId('verify-title').waitFor();
  }

  // Browsers know no type for .ofd: the file is sent as the picker gives it, with no type.
  const choose = (page: Page, name: string, buffer: Buffer) =>
    page.getByTestId('verify-file-input').setInputFiles({ name, mimeType: '', buffer });

  const waitForVerdict = (page: Page, verdict: string) =>
    page.locator(`[data-testid=verify-verdict][data-verdict="${verdict}"]`).waitFor();

  it('on a phone: the sealed judgment is green with the court seal, in English and Chinese; a changed copy is red', async ({
    onTestFailed,
  }) => {
    const page = await suite.newPage(PHONE, onTestFailed, 'phone');
    await open(page);
    await choose(page, '民事判决书.ofd', signed);
    await waitForVerdict(page, 'valid');
    expect(await page.getByTestId('verify-report').getAttribute('data-format')).toBe('ofd');
    expect(await text(page, 'verify-verdict')).toMatch(/Valid: every electronic seal \(GB\/T 38540\) is intact/);
    expect(await text(page, 'verify-signer')).toBe(sealName);
    expect(await text(page, 'verify-company')).toBe(COURT);
    expect(await page.getByTestId('verify-trust').getAttribute('data-trusted')).toBe('true');
    expect(await page.getByTestId('verify-ofd-files').getAttribute('data-changed')).toBe('0');
    expect(await text(page, 'verify-platform')).toMatch(/^This exact file was signed on this platform/);
    await expectNoHorizontalScroll(page);
    await screenshotPage(page, 'verify-ofd-phone-valid.png');

    await page.getByTestId('verify-lang-zh-CN').click();
    await waitForText(page, 'verify-title', (t) => t === '签章文件验证');
    expect(await text(page, 'verify-verdict')).toContain('验证通过：所有电子签章（GB/T 38540）完好');
    await screenshotPage(page, 'verify-ofd-phone-valid-zh.png');

    await choose(page, '民事判决书-改.ofd', altered);
    await waitForVerdict(page, 'altered');
    expect(await text(page, 'verify-verdict')).toContain('文件已被篡改');
    expect(await text(page, 'verify-changes')).toMatch(/Content\.xml 在签章后被修改/);
    await expectNoHorizontalScroll(page);
    await screenshotPage(page, 'verify-ofd-phone-altered-zh.png');
    await page.getByTestId('verify-lang-en').click();
    await waitForText(page, 'verify-title', (t) => t === 'Verify a signed document');
    expect(await text(page, 'verify-changes')).toMatch(/Content\.xml was changed after sealing/);
  });

  it('on a desktop: a zip that is not an OFD is refused with a clear reason', async ({ onTestFailed }) => {
    const page = await suite.newPage(DESKTOP, onTestFailed, 'desktop');
    await open(page);
    const tmp = tempDir('sigil-verify-ofd-');
    const notOfd = pythonZip(tmp, { set: { 'readme.txt': 'hello' } });
    tmp.remove();
    await choose(page, 'broken.ofd', notOfd);
    await page.getByTestId('verify-problem').waitFor();
    expect(await page.getByTestId('verify-problem').getAttribute('data-code')).toBe('ofd_malformed');
    expect(await text(page, 'verify-problem')).toContain('not an OFD');
  });
});
