// OFD and SM2 in the platform (issue 15): the group's SM2 CA and each seal's SM2 certificate, the
// seal's .esl (issued by administrators, downloaded by readers, refused for another company's seal
// and for a seal out of use), OFD uploads read within limits, OFD pages drawn, a stored OFD sealed
// through POST /signatures under the same authority checks as a PDF, and the public verification
// of an OFD, with a changed copy reported as altered. The done-when of the issue: a judgment
// (判决书) sealed as OFD with a court seal verifies on the public verification.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSeal, decodeSesSignature, parseCertificate, verifySeal } from '../src/signing/index.js';
import { openOfd, readPackage, renderTemplateOfd } from '../src/ofd/index.js';
import type { TemplateSource } from '../src/templates/index.js';
import { revokeSealCertificates } from '../src/modules/pki/index.js';
import { OpensslSm2Pki } from './signing/sm2-pki.js';
import { bouncyCastleSesCheck, opensslSm3, pythonUnzip, pythonZip, requireTool, tempDir } from './ofd/support.js';
import {
  buildCompany,
  buildGroup,
  buildSeal,
  buildUser,
  client,
  createWorld,
  type GroupFixture,
  type World,
} from './support/world.js';

type User = Awaited<ReturnType<typeof buildUser>>;

const COURT = '北京市海淀区人民法院';

/** A judgment (民事判决书) as Sigil's templates lay it out; the court's seal goes over the date line. */
const judgment: TemplateSource = {
  title: '民事判决书',
  variables: [
    { name: 'court', label: '法院', type: 'text' },
    { name: 'caseNumber', label: '案号', type: 'text' },
    { name: 'plaintiff', label: '原告', type: 'text' },
    { name: 'defendant', label: '被告', type: 'text' },
    { name: 'amount', label: '金额', type: 'amount' },
  ],
  body: `# {{court}}
# 民事判决书

{{caseNumber}}

原告：{{plaintiff}}
被告：{{defendant}}

原告{{plaintiff}}与被告{{defendant}}买卖合同纠纷一案，本院立案后，依法适用简易程序，公开开庭进行了审理。本案现已审理终结。

本院认为，当事人应当按照约定全面履行自己的义务。被告未按约定支付货款，应承担相应的民事责任。依照《中华人民共和国民法典》第五百七十七条之规定，判决如下：

被告{{defendant}}于本判决生效之日起十日内向原告{{plaintiff}}支付货款{{amount}}。

如不服本判决，可以在判决书送达之日起十五日内，向本院递交上诉状，并按对方当事人的人数提出副本，上诉于北京市第一中级人民法院。

审判员　李明
书记员　王芳
`,
};

let world: World;
let group: GroupFixture;
let court: { id: string; path: string };
let other: { id: string; path: string };
let clerk: User;
let judge: User;
let otherAdmin: User;
let courtSeal: { id: string; name: string };
let otherSeal: { id: string; name: string };
let suspendedSeal: { id: string; name: string };
let tmp: ReturnType<typeof tempDir>;
let judgmentOfd: Buffer;

const api = (path: string) => `/api/v1${path}`;

async function getBytes(path: string, token?: string) {
  const response = await world.app.inject({
    method: 'GET',
    // The public PKI addresses (named in certificates) live outside /api/v1.
    url: path.startsWith('/pki/') ? path : api(path),
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: response.statusCode, bytes: response.rawPayload, headers: response.headers, text: response.body };
}

async function upload(token: string, bytes: Buffer, type: string, name = 'judgment.ofd') {
  return client(world, token).raw('POST', api(`/documents/uploads?name=${encodeURIComponent(name)}`), bytes, {
    'content-type': type,
  });
}

async function otherOfd(): Promise<Buffer> {
  const { ofd } = await renderTemplateOfd({ title: '通知', variables: [], body: '# 通知\n\n本院定于下周开庭。\n' }, {});
  return Buffer.from(ofd);
}

async function verifyPublicly(bytes: Buffer) {
  return client(world).raw('POST', api('/public/verifications'), bytes, { 'content-type': 'application/ofd' });
}

async function withImage(sealId: string, token: string) {
  const image = await client(world, token).post(api('/seal-images/generate'), {
    shape: 'round',
    company: COURT,
    type: '',
  });
  expect(image.status).toBe(201);
  await world.db
    .updateTable('seals')
    .set({ image_sha256: image.body.sha256, image_media_type: image.body.mediaType })
    .where('id', '=', sealId)
    .execute();
}

beforeAll(async () => {
  for (const tool of ['openssl', 'python3']) requireTool(tool);
  tmp = tempDir('sigil-ofd-platform-');
  world = await createWorld({ SIGIL_PUBLIC_URL: 'https://sigil.example.test', LOG_LEVEL: 'error' });
  group = await buildGroup(world, '法院集团');
  court = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: COURT });
  other = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: '华夏贸易有限公司' });
  clerk = await buildUser(world, {
    groupId: group.groupId,
    companyId: court.id,
    roles: [{ role: 'seal_admin' }],
    name: '王芳',
  });
  judge = await buildUser(world, {
    groupId: group.groupId,
    companyId: court.id,
    roles: [{ role: 'employee' }],
    name: '李明',
  });
  otherAdmin = await buildUser(world, {
    groupId: group.groupId,
    companyId: other.id,
    roles: [{ role: 'seal_admin' }],
    name: 'Other admin',
  });
  courtSeal = await buildSeal(world, {
    groupId: group.groupId,
    companyId: court.id,
    custodianIds: [clerk.id],
    name: `${COURT}印`,
    type: 'official',
  });
  await withImage(courtSeal.id, clerk.token);
  otherSeal = await buildSeal(world, {
    groupId: group.groupId,
    companyId: other.id,
    custodianIds: [otherAdmin.id],
    name: '华夏贸易公章',
    type: 'official',
  });
  await withImage(otherSeal.id, otherAdmin.token);
  suspendedSeal = await buildSeal(world, {
    groupId: group.groupId,
    companyId: court.id,
    custodianIds: [clerk.id],
    name: `${COURT}停用章`,
    status: 'suspended',
  });
  await withImage(suspendedSeal.id, clerk.token);
  const { ofd } = await renderTemplateOfd(judgment, {
    court: COURT,
    caseNumber: '（2026）京0108民初12345号',
    plaintiff: '华夏贸易有限公司',
    defendant: '北方物资有限公司',
    amount: '125000.00',
  });
  judgmentOfd = Buffer.from(ofd);
}, 120_000);

afterAll(async () => {
  await world?.close();
  tmp?.remove();
});

describe('SM2 PKI and the .esl of a seal', () => {
  it('refuses the .esl without a token', async () => {
    expect((await client(world).post(api(`/seals/${courtSeal.id}/esl`))).status).toBe(401);
    expect((await getBytes(`/seals/${courtSeal.id}/esl`)).status).toBe(401);
  });

  it('has no .esl before one is issued', async () => {
    const answer = await client(world, clerk.token).get(api(`/seals/${courtSeal.id}/esl`));
    expect(answer.status).toBe(404);
    expect(answer.body.code).toBe('esl_not_found');
  });

  it('refuses to issue the .esl to someone who may not manage the seal', async () => {
    // An auditor reads the seal, so learns only that they may not issue: 403.
    const auditor = await buildUser(world, {
      groupId: group.groupId,
      companyId: court.id,
      roles: [{ role: 'security_auditor' }],
      name: '赵审计',
    });
    expect((await client(world, auditor.token).get(api(`/seals/${courtSeal.id}`))).status).toBe(200);
    const refused = await client(world, auditor.token).post(api(`/seals/${courtSeal.id}/esl`));
    expect(refused.status).toBe(403);
    // Someone who does not read it is answered as for a seal that does not exist.
    const hidden = await client(world, judge.token).post(api(`/seals/${courtSeal.id}/esl`));
    const madeUp = await client(world, judge.token).post(api(`/seals/${randomUUID()}/esl`));
    expect(hidden.status).toBe(madeUp.status);
    expect(hidden.body.code).toBe(madeUp.body.code);
    const none = await world.db.selectFrom('electronic_seals').select('id').execute();
    expect(none).toHaveLength(0);
  });

  it('issues the .esl by the group SM2 CA, with the impression and the seal SM2 certificate on its list', async () => {
    const issued = await client(world, clerk.token).post(api(`/seals/${courtSeal.id}/esl`));
    expect(issued.status).toBe(201);
    expect(issued.body).toMatchObject({ sealId: courtSeal.id, name: courtSeal.name });
    expect(issued.body.certificate.subject).toContain(`O=${COURT}`);
    expect(issued.body.maker.subject).toContain('制章者');
    const again = await client(world, clerk.token).post(api(`/seals/${courtSeal.id}/esl`));
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(issued.body.id);

    const file = await getBytes(`/seals/${courtSeal.id}/esl`, clerk.token);
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toBe('application/octet-stream');
    expect(file.bytes.length).toBe(issued.body.size);
    const seal = decodeSeal(file.bytes);
    expect(seal.version).toBe(4);
    expect(seal.name).toBe(courtSeal.name);
    expect(seal.picture.type.toLowerCase()).toBe('png');
    expect(seal.picture.data.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(seal.certs).toHaveLength(1);
    const signer = parseCertificate(seal.certs[0]!);
    expect(signer.organization).toBe(COURT);
    expect(signer.commonName).toBe(courtSeal.name);

    // The trust anchors: the SM2 root is public, the group's SM2 CA is shown to members.
    const trust = await client(world, clerk.token).get(api('/pki'));
    expect(trust.status).toBe(200);
    expect(trust.body.sm2Root.keySpec).toBe('SM2');
    expect(parseCertificate(seal.maker).issuer).toBe(trust.body.sm2GroupCa.subject);
    const root = await getBytes('/pki/sm2/root/certificate');
    expect(root.status).toBe(200);
    const ca = await getBytes(`/pki/groups/${group.groupId}/sm2/certificate`);
    expect(ca.status).toBe(200);
    expect(verifySeal(file.bytes, { trustAnchors: [root.bytes], intermediates: [ca.bytes] }).valid).toBe(true);
    // Against the deployment's other (RSA/ECDSA) root, the SM2 seal maker is not trusted.
    const otherRoot = await getBytes('/pki/root/certificate');
    expect(verifySeal(file.bytes, { trustAnchors: [otherRoot.bytes], intermediates: [ca.bytes] }).valid).toBe(false);

    // openssl, not Sigil, validates the seal certificate's SM2 chain (with the standard ID).
    const rootPem = tmp.file('sm2-root.der', root.bytes);
    const caPem = tmp.file('sm2-ca.der', ca.bytes);
    const signerDer = tmp.file('sm2-seal.der', seal.certs[0]!);
    const pem = (der: string) =>
      execFileSync('openssl', ['x509', '-inform', 'DER', '-in', der, '-outform', 'PEM']).toString();
    const rootFile = tmp.file('root.pem', pem(rootPem));
    const caFile = tmp.file('ca.pem', pem(caPem));
    const signerFile = tmp.file('seal.pem', pem(signerDer));
    const makerFile = tmp.file('maker.pem', pem(tmp.file('maker.der', seal.maker)));
    // Link by link (OpenSSL 3.0 applies the SM2 ID only to the certificate it is asked about).
    const openssl = new OpensslSm2Pki(tmp.dir);
    for (const leaf of [signerFile, makerFile]) {
      const verdict = openssl.verify(rootFile, [caFile, leaf]);
      expect(verdict.ok, verdict.out).toBe(true);
    }
    // A seal certificate presented under the RSA/ECDSA root's name fails openssl too.
    expect(
      openssl.verify(tmp.file('other-root.pem', pem(tmp.file('other-root.der', otherRoot.bytes))), [caFile]).ok,
    ).toBe(false);
    const crl = await getBytes(`/pki/groups/${group.groupId}/sm2/crl`);
    expect(crl.status).toBe(200);
  });

  it("answers another company's seal like a made-up id, for download and for issue", async () => {
    const probe = await client(world, otherAdmin.token).get(api(`/seals/${courtSeal.id}/esl`));
    const madeUp = await client(world, otherAdmin.token).get(api(`/seals/01900000-0000-7000-8000-000000000000/esl`));
    expect(probe.status).toBe(404);
    expect(madeUp.status).toBe(404);
    expect(probe.body.code).toBe(madeUp.body.code);
    const issue = await client(world, otherAdmin.token).post(api(`/seals/${courtSeal.id}/esl`));
    expect(issue.status).toBe(404);
    expect(issue.body.code).toBe('seal_not_found');
  });

  it('issues no .esl for a seal out of use, and gives none out', async () => {
    const issue = await client(world, clerk.token).post(api(`/seals/${suspendedSeal.id}/esl`));
    expect(issue.status).toBe(409);
    expect(issue.body.code).toBe('seal_not_usable');
    const file = await client(world, clerk.token).get(api(`/seals/${suspendedSeal.id}/esl`));
    expect(file.status).toBe(409);
    expect(file.body.code).toBe('seal_not_usable');
    const physical = await buildSeal(world, {
      groupId: group.groupId,
      companyId: court.id,
      custodianIds: [clerk.id],
      kind: 'physical',
    });
    const refused = await client(world, clerk.token).post(api(`/seals/${physical.id}/esl`));
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('seal_not_electronic');
  });

  it('stops giving out the .esl once the seal certificates are revoked', async () => {
    const seal = await buildSeal(world, { groupId: group.groupId, companyId: court.id, custodianIds: [clerk.id] });
    await withImage(seal.id, clerk.token);
    expect((await client(world, clerk.token).post(api(`/seals/${seal.id}/esl`))).status).toBe(201);
    expect((await getBytes(`/seals/${seal.id}/esl`, clerk.token)).status).toBe(200);
    await world.db.transaction().execute((trx) =>
      revokeSealCertificates(trx, {
        groupId: group.groupId,
        sealId: seal.id,
        companyId: court.id,
        reason: 'keyCompromise',
        cause: 'test',
        actor: { system: 'test' },
        at: world.clock.now(),
      }),
    );
    const after = await client(world, clerk.token).get(api(`/seals/${seal.id}/esl`));
    expect(after.status).toBe(404);
    expect(after.body.code).toBe('esl_not_found');
  });
});

describe('OFD documents', () => {
  it('stores an OFD upload as application/ofd and refuses packages that are not OFD', async () => {
    const stored = await upload(judge.token, judgmentOfd, 'application/ofd');
    expect(stored.status).toBe(201);
    expect(stored.body.mediaType).toBe('application/ofd');

    // A zip without OFD.xml, made by Python's zipfile.
    const notOfd = pythonZip(tmp, { set: { 'readme.txt': 'hello' } });
    const refused = await upload(judge.token, notOfd, 'application/ofd', 'x.ofd');
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('ofd_malformed');

    // XML entities (a billion laughs in miniature) are refused unread.
    const entities = pythonZip(tmp, {
      set: {
        'OFD.xml':
          '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocRoot>&b;</ofd:DocRoot></ofd:DocBody></ofd:OFD>',
      },
    });
    const xml = await upload(judge.token, entities, 'application/ofd', 'e.ofd');
    expect(xml.status).toBe(422);
    expect(xml.body.code).toBe('ofd_malformed');

    // A path that climbs out of the package.
    const escape = pythonZip(tmp, {
      input: judgmentOfd,
      raw: [{ name: '../../etc/evil.xml', data: Buffer.from('<x/>') }],
    });
    const climbed = await upload(judge.token, escape, 'application/ofd', 'p.ofd');
    expect(climbed.status).toBe(422);
    expect(climbed.body.code).toBe('ofd_malformed');

    // Within the upload's 20 MB but beyond what the platform inflates (64 MB in all), or holding
    // more files than an OFD needs (2,000): refused as too large, before anything is stored.
    const grown = (python: string) =>
      execFileSync(
        'python3',
        [
          '-c',
          `import io,sys,zipfile
src=zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read()))
out=io.BytesIO()
z=zipfile.ZipFile(out,'w',zipfile.ZIP_DEFLATED)
for i in src.infolist(): z.writestr(i.filename, src.read(i))
${python}
z.close()
sys.stdout.buffer.write(out.getvalue())`,
        ],
        { input: judgmentOfd, maxBuffer: 64 * 1024 * 1024 },
      );
    const before = await world.db.selectFrom('blob_uploads').select('sha256').execute();
    const bomb = grown("for n in range(3): z.writestr(f'Doc_0/Res/pad{n}.bin', bytes(25*1024*1024))");
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const inflated = await upload(judge.token, bomb, 'application/ofd', 'bomb.ofd');
    expect(inflated.status).toBe(413);
    expect(inflated.body.code).toBe('payload_too_large');
    const crowded = grown("for n in range(2001): z.writestr(f'Doc_0/Res/f{n}.xml', '<x/>')");
    const many = await upload(judge.token, crowded, 'application/ofd', 'many.ofd');
    expect(many.status).toBe(413);
    expect(many.body.code).toBe('payload_too_large');
    expect(await world.db.selectFrom('blob_uploads').select('sha256').execute()).toHaveLength(before.length);

    // A zip claiming to be a PDF.
    const lying = await upload(judge.token, judgmentOfd, 'application/pdf', 'lie.pdf');
    expect(lying.status).toBe(422);
    expect(lying.body.code).toBe('file_type_mismatch');
  });

  it('gives the pages of an OFD and draws them as PNG and SVG', async () => {
    const stored = await upload(judge.token, judgmentOfd, 'application/ofd');
    const pages = await client(world, judge.token).get(api(`/documents/${stored.body.sha256}/pages`));
    expect(pages.status).toBe(200);
    expect(pages.body.format).toBe('ofd');
    expect(pages.body.count).toBe(openOfd(judgmentOfd).document.pages.length);
    // A4 in points.
    expect(pages.body.pages[0].box[2]).toBeCloseTo(595.28, 0);
    const png = await getBytes(`/documents/${stored.body.sha256}/pages/1/image`, judge.token);
    expect(png.status).toBe(200);
    expect(png.headers['content-type']).toBe('image/png');
    expect(png.bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
    const svg = await getBytes(`/documents/${stored.body.sha256}/pages/1/image?format=svg`, judge.token);
    expect(svg.status).toBe(200);
    expect(svg.text).toContain('<svg');
    const beyond = await client(world, judge.token).get(api(`/documents/${stored.body.sha256}/pages/99/image`));
    expect(beyond.status).toBe(400);
    // Someone who never uploaded it reads nothing of it.
    const stranger = await client(world, otherAdmin.token).get(api(`/documents/${stored.body.sha256}/pages/1/image`));
    expect(stranger.status).toBe(404);
  });
});

describe('sealing an OFD through POST /signatures', () => {
  let documentSha256: string;
  let grantId: string;

  beforeAll(async () => {
    documentSha256 = (await upload(judge.token, judgmentOfd, 'application/ofd')).body.sha256;
  });

  const signatureCount = async () =>
    Number(
      (
        await world.db
          .selectFrom('signatures')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('seal_id', '=', courtSeal.id)
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('refuses the seal without a grant, and signs nothing', async () => {
    const answer = await client(world, judge.token).post(api('/signatures'), {
      documentSha256,
      sealId: courtSeal.id,
      category: 'legal',
    });
    expect(answer.status).toBe(403);
    expect(answer.body.code).toBe('seal_not_granted');
    expect(await signatureCount()).toBe(0);
  });

  it("answers another company's user as if the seal did not exist", async () => {
    const theirs = (await upload(otherAdmin.token, judgmentOfd, 'application/ofd')).body.sha256;
    const answer = await client(world, otherAdmin.token).post(api('/signatures'), {
      documentSha256: theirs,
      sealId: courtSeal.id,
      category: 'legal',
    });
    expect(answer.status).toBe(404);
    expect(answer.body.code).toBe('seal_not_found');
  });

  it('makes no personal OFD signature', async () => {
    const answer = await client(world, judge.token).post(api('/signatures'), { documentSha256 });
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe('validation_failed');
  });

  it('signs a judgment with the court seal under a grant, counting the use; the last use is not spent twice', async () => {
    const grant = await client(world, clerk.token).post(api(`/seals/${courtSeal.id}/grants`), {
      grantee: { type: 'user', userId: judge.id },
      categories: ['legal'],
      maxUses: 1,
    });
    expect(grant.status).toBe(201);
    grantId = grant.body.id;
    const signed = await client(world, judge.token).post(api('/signatures'), {
      documentSha256,
      sealId: courtSeal.id,
      category: 'legal',
      appearance: { type: 'keyword', keyword: '审判员' },
    });
    expect(signed.status, JSON.stringify(signed.body)).toBe(201);
    expect(signed.body.grantId).toBe(grantId);
    expect(await signatureCount()).toBe(1);

    const again = await client(world, judge.token).post(api('/signatures'), {
      documentSha256,
      sealId: courtSeal.id,
      category: 'legal',
    });
    expect(again.status).toBe(403);
    expect(again.body.code).toBe('seal_not_granted');
    expect(await signatureCount()).toBe(1);

    const file = await getBytes(`/signatures/${signed.body.id}/document`, judge.token);
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toBe('application/ofd');
    const output = file.bytes;
    const blob = await world.db
      .selectFrom('blobs')
      .select('media_type')
      .where('sha256', '=', signed.body.outputSha256)
      .executeTakeFirstOrThrow();
    expect(blob.media_type).toBe('application/ofd');

    // What Python's zipfile, openssl's SM3 and BouncyCastle say about the signed package.
    const files = pythonUnzip(tmp, output);
    const signatureXml = files.get('Doc_0/Signs/Sign_0/Signature.xml');
    const signedValue = files.get('Doc_0/Signs/Sign_0/SignedValue.dat');
    expect(signatureXml).toBeDefined();
    expect(signedValue).toBeDefined();
    const ses = decodeSesSignature(signedValue!);
    expect(ses.dataHash.toString('base64')).toBe(opensslSm3(tmp, signatureXml!));
    expect(ses.seal.name).toBe(courtSeal.name);
    expect(parseCertificate(ses.certificate).organization).toBe(COURT);
    const esl = await getBytes(`/seals/${courtSeal.id}/esl`, clerk.token);
    expect(Buffer.compare(files.get('Doc_0/Signs/Sign_0/Seal.esl') ?? Buffer.alloc(0), esl.bytes)).toBe(0);
    // Every page file is listed with its SM3, as openssl computes it.
    const page = [...files.keys()].find((p) => /Pages\/Page_0\/Content\.xml$/.test(p))!;
    expect(signatureXml!.toString()).toContain(opensslSm3(tmp, files.get(page)!));
    if (process.env.SKIP_JAVA !== '1') {
      const check = bouncyCastleSesCheck(tmp)(signatureXml!, signedValue!);
      expect(check.valid, check.out).toBe(true);
    }
  }, 120_000);

  it('signs under an approved application naming the OFD, once per approved use', async () => {
    const approver = await buildUser(world, {
      groupId: group.groupId,
      companyId: group.hq.id,
      roles: [{ role: 'seal_admin' }],
      name: 'Approver',
    });
    const flow = await client(world, approver.token).post(api('/flows'), {
      companyId: group.hq.id,
      category: 'personnel',
      name: 'Court seal use',
      definition: { levels: [{ name: 'HQ', mode: 'any', approvers: [{ type: 'user', userId: approver.id }] }] },
    });
    expect(flow.status, JSON.stringify(flow.body)).toBe(201);
    // Applying to use a seal needs a standing grant for the category (the application counts the uses).
    const grant = await client(world, clerk.token).post(api(`/seals/${courtSeal.id}/grants`), {
      grantee: { type: 'user', userId: judge.id },
      categories: ['personnel'],
    });
    expect(grant.status).toBe(201);
    const sha = (await upload(judge.token, judgmentOfd, 'application/ofd', '判决书-申请.ofd')).body.sha256;
    const other = (await upload(judge.token, await otherOfd(), 'application/ofd', '其他.ofd')).body.sha256;
    const applied = await client(world, judge.token).post(api('/applications'), {
      sealIds: [courtSeal.id],
      category: 'personnel',
      reason: '判决书用印',
      uses: 1,
      documents: [{ sha256: sha, name: '判决书.ofd' }],
    });
    expect(applied.status, JSON.stringify(applied.body)).toBe(201);
    const task = (await client(world, approver.token).get(api('/tasks?status=pending'))).body.items.find(
      (t: { applicationId: string }) => t.applicationId === applied.body.id,
    );
    const approved = await client(world, approver.token).post(api(`/tasks/${task.id}/approve`), {});
    expect(approved.body.status).toBe('approved');
    const authorizationId = approved.body.authorizations[0].id as string;

    // Another OFD than the one the application names is refused.
    const wrong = await client(world, judge.token).post(api('/signatures'), { documentSha256: other, authorizationId });
    expect(wrong.status).toBe(403);
    expect(wrong.body.code).toBe('document_not_authorized');
    const before = await signatureCount();
    // A cross-page seal on a one-page judgment cannot be made: refused, and no use is counted.
    const onePage = await client(world, judge.token).post(api('/signatures'), {
      documentSha256: sha,
      authorizationId,
      crossPage: {},
    });
    expect(onePage.status).toBe(400);
    expect(onePage.body.code).toBe('validation_failed');
    expect(await signatureCount()).toBe(before);
    const signed = await client(world, judge.token).post(api('/signatures'), {
      documentSha256: sha,
      authorizationId,
      appearance: { type: 'keyword', keyword: '书记员' },
    });
    expect(signed.status, JSON.stringify(signed.body)).toBe(201);
    expect(signed.body.authorizationId).toBe(authorizationId);
    expect(await signatureCount()).toBe(before + 1);
    const spent = await client(world, judge.token).post(api('/signatures'), { documentSha256: sha, authorizationId });
    expect(spent.status).toBe(409);
    expect(spent.body.code).toBe('authorization_exhausted');
    expect(await signatureCount()).toBe(before + 1);
  }, 120_000);

  it('refuses a seal out of use', async () => {
    const answer = await client(world, clerk.token).post(api('/signatures'), {
      documentSha256: (await upload(clerk.token, judgmentOfd, 'application/ofd')).body.sha256,
      sealId: suspendedSeal.id,
      category: 'legal',
    });
    expect(answer.status).toBe(409);
    expect(answer.body.code).toBe('seal_not_usable');
  });
});

describe('the public verification of an OFD', () => {
  let signedOfd: Buffer;

  beforeAll(async () => {
    const judgmentSha = (await upload(clerk.token, judgmentOfd, 'application/ofd', '判决书.ofd')).body.sha256;
    const grant = await client(world, clerk.token).post(api(`/seals/${courtSeal.id}/grants`), {
      grantee: { type: 'user', userId: judge.id },
      categories: ['legal'],
    });
    expect(grant.status).toBe(201);
    // The judge signs the clerk's upload: readable to the judge only through the application or
    // signature chain, so the judge uploads the same bytes (ownership is per upload).
    await upload(judge.token, judgmentOfd, 'application/ofd', '判决书.ofd');
    const signed = await client(world, judge.token).post(api('/signatures'), {
      documentSha256: judgmentSha,
      sealId: courtSeal.id,
      category: 'legal',
      appearance: { type: 'rect', page: 1, rect: [400, 80, 119, 119] },
    });
    expect(signed.status, JSON.stringify(signed.body)).toBe(201);
    signedOfd = (await getBytes(`/signatures/${signed.body.id}/document`, judge.token)).bytes;
  }, 120_000);

  it('a judgment sealed as OFD with the court seal verifies on the public verification', async () => {
    const answer = await verifyPublicly(signedOfd);
    expect(answer.status).toBe(200);
    const report = answer.body;
    expect(report.format).toBe('ofd');
    expect(report.verdict).toBe('valid');
    expect(report.signatures).toHaveLength(1);
    const [signature] = report.signatures;
    expect(signature.status).toBe('valid');
    expect(signature.seal.name).toBe(courtSeal.name);
    expect(signature.seal.version).toBe(4);
    expect(signature.signer.organization).toBe(COURT);
    expect(signature.checks).toEqual({
      signatureValue: true,
      signerListed: true,
      sealValid: true,
      dataHash: 'match',
      timeStamp: 'absent',
    });
    expect(signature.chainTrusted).toBe(true);
    expect(signature.unprotected).toEqual([]);
    expect(signature.references.length).toBeGreaterThan(3);
    expect(signature.references.every((r: { status: string }) => r.status === 'intact')).toBe(true);
    expect(signature.stamps).toHaveLength(1);
    expect(signature.stamps[0].page).toBe(0);
    expect(report.platformOutput).not.toBeNull();
    expect(report.sm2RootCertificate.sha256).toMatch(/^[0-9a-f]{64}$/);
    // Only what the file discloses: no record ids of the group, its seal, its people.
    const text = JSON.stringify(report);
    for (const id of [group.groupId, courtSeal.id, judge.id, clerk.id, court.id]) expect(text).not.toContain(id);
  });

  it('verifies the OFD for a member too, saying whether the archive holds it', async () => {
    const verify = (bytes: Buffer) =>
      client(world, judge.token).raw('POST', api('/verifications'), bytes, { 'content-type': 'application/ofd' });
    const answer = await verify(signedOfd);
    expect(answer.status).toBe(200);
    expect(answer.body.format).toBe('ofd');
    expect(answer.body.verdict).toBe('valid');
    expect(answer.body.archive.found).toBe(true);
    const stranger = await client(world, otherAdmin.token).raw('POST', api('/verifications'), signedOfd, {
      'content-type': 'application/ofd',
    });
    expect(stranger.status).toBe(200);
    // Another company's administrator learns the file is in the archive, but not whose signature made it.
    expect(stranger.body.archive.signatures).toEqual([]);
    const broken = await verify(pythonZip(tmp, { set: { 'a.txt': 'a' } }));
    expect(broken.status).toBe(422);
    expect(broken.body.code).toBe('ofd_malformed');
  });

  it('reports a copy with a changed page as altered', async () => {
    const files = pythonUnzip(tmp, signedOfd);
    const page = [...files.keys()].find((p) => /Pages\/Page_0\/Content\.xml$/.test(p))!;
    const changed = files.get(page)!.toString().replace('李明', '张三');
    const altered = pythonZip(tmp, { input: signedOfd, set: { [page]: changed } });
    const answer = await verifyPublicly(altered);
    expect(answer.status).toBe(200);
    expect(answer.body.verdict).toBe('invalid');
    const [signature] = answer.body.signatures;
    expect(signature.status).toBe('invalid');
    expect(signature.references).toContainEqual({ path: page, status: 'changed' });
    expect(answer.body.platformOutput).toBeNull();
  });

  it('reports a file added after signing as unprotected', async () => {
    const added = pythonZip(tmp, { input: signedOfd, set: { 'Doc_0/Res/extra.xml': '<x/>' } });
    const answer = await verifyPublicly(added);
    expect(answer.status).toBe(200);
    expect(answer.body.verdict).toBe('invalid');
    expect(answer.body.signatures[0].unprotected).toContain('Doc_0/Res/extra.xml');
  });

  it('reports a changed signed value as invalid', async () => {
    const altered = pythonZip(tmp, { input: signedOfd, flip: { 'Doc_0/Signs/Sign_0/SignedValue.dat': 300 } });
    const answer = await verifyPublicly(altered);
    expect(answer.status).toBe(200);
    expect(answer.body.verdict).toBe('invalid');
  });

  it('does not trust a seal signature from outside the platform', async () => {
    const { fixture } = await import('./ofd/support.js');
    const answer = await verifyPublicly(fixture('v4signed.ofd'));
    expect(answer.status).toBe(200);
    expect(answer.body.format).toBe('ofd');
    expect(['unknown-signer', 'invalid']).toContain(answer.body.verdict);
    expect(answer.body.signatures[0].chainTrusted).toBe(false);
  });

  it('refuses a zip that is not an OFD, and still answers a PDF as before', async () => {
    const answer = await verifyPublicly(pythonZip(tmp, { set: { 'a.txt': 'a' } }));
    expect(answer.status).toBe(422);
    expect(answer.body.code).toBe('ofd_malformed');
    expect(readPackage(signedOfd).files.size).toBeGreaterThan(0);
  });
});
