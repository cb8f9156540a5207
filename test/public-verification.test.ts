// Verification without an account (POST /api/v1/public/verifications, GET …/{sha256}) and the
// /verify page's route. A PDF signed through the platform is valid and trusted; a copy with one
// byte changed, or with a revision appended that paints over the page, is altered (pdfsig agrees);
// a PDF signed with a certificate made by the openssl CLI is intact but not trusted; bad uploads,
// the size limit and the rate limit get clear problems; and nothing in an answer comes from the
// platform's records about who did what: no ids, no people, no names the file does not carry.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/server/app.js';
import { sha256Of } from '../src/signing/verify.js';
import {
  QpdfView,
  appendRevision,
  handPdf,
  lastTrailer,
  overlayAppearance,
  signWithOpenssl,
  signatureDictionary,
  streamBody,
  withAppended,
} from './signing/hand-pdf.js';
import { buildPdf } from './signing/pdf-fixtures.js';
import { nssDatabase, pdfsig, requireTool, run, tempDir } from './signing/support.js';
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

const PUBLIC_URL = 'https://sigil.example.test';
const GROUP_NAME = 'Huaxia Holdings';
const COMPANY_NAME = '华夏贸易有限公司';
const SEAL_NAME = '华夏贸易合同专用章';
const DOCUMENT_NAME = '销售合同-内部编号-7731.pdf';

let world: World;
let group: GroupFixture;
let company: { id: string; path: string };
let department: { id: string };
let keeper: User;
let signer: User;
let seal: { id: string };
let tmp: ReturnType<typeof tempDir>;
let nss: string;
let rootDer: Buffer;
/** The first platform signature (its record) and the signed file. */
let signed: { id: string; certificateId: string; grantId: string | null; fieldName: string; outputSha256: string };
let signedPdf: Buffer;
let original: Buffer;
let originalSha: string;

const contract = () =>
  buildPdf({
    pages: 2,
    lines: ['Sales contract No. 2026-001', 'Sigil public verification test'],
    compress: false,
  });

/** Each request from its own client address unless one is given: the rate limit is per address. */
let addresses = 0;
const nextAddress = () => `10.20.${Math.floor(++addresses / 250)}.${(addresses % 250) + 1}`;

/** `type: null` sends no Content-Type at all. */
async function verifyPublicly(payload: Buffer, options: { type?: string | null; from?: string } = {}) {
  const type = options.type === undefined ? 'application/pdf' : options.type;
  const response = await world.app.inject({
    method: 'POST',
    url: '/api/v1/public/verifications',
    headers: type === null ? {} : { 'content-type': type },
    payload,
    remoteAddress: options.from ?? nextAddress(),
  });
  return { status: response.statusCode, body: response.json(), headers: response.headers, text: response.body };
}

async function lookUp(sha256: string, from = nextAddress()) {
  const response = await world.app.inject({
    method: 'GET',
    url: `/api/v1/public/verifications/${sha256}`,
    remoteAddress: from,
  });
  return { status: response.statusCode, body: response.json(), headers: response.headers, text: response.body };
}

async function upload(user: User, bytes: Buffer) {
  const response = await world.app.inject({
    method: 'POST',
    url: `/api/v1/documents/uploads?name=${encodeURIComponent(DOCUMENT_NAME)}`,
    headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/pdf' },
    payload: bytes,
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().sha256 as string;
}

async function sign(documentSha256: string, extra: Record<string, unknown> = {}) {
  const answer = await client(world, signer.token).post('/api/v1/signatures', {
    documentSha256,
    sealId: seal.id,
    category: 'sales',
    level: 'B-T',
    reason: '合同盖章',
    ...extra,
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body;
}

async function download(signatureId: string): Promise<Buffer> {
  const response = await world.app.inject({
    method: 'GET',
    url: `/api/v1/signatures/${signatureId}/document`,
    headers: { authorization: `Bearer ${signer.token}` },
  });
  expect(response.statusCode).toBe(200);
  return response.rawPayload;
}

let files = 0;
const file = (bytes: Buffer) => tmp.file(`case-${++files}.pdf`, bytes);

beforeAll(async () => {
  for (const tool of ['pdfsig', 'certutil', 'openssl', 'qpdf']) requireTool(tool);
  tmp = tempDir('sigil-public-verify-');
  world = await createWorld({ SIGIL_PUBLIC_URL: PUBLIC_URL });
  group = await buildGroup(world, GROUP_NAME);
  company = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: COMPANY_NAME });
  const dept = await client(world, group.admin.token).post('/api/v1/departments', {
    companyId: company.id,
    name: '法务部-保密',
  });
  expect(dept.status, JSON.stringify(dept.body)).toBe(201);
  department = dept.body;
  keeper = await buildUser(world, {
    groupId: group.groupId,
    companyId: company.id,
    roles: [{ role: 'seal_admin' }],
    name: 'Keeper Li',
  });
  signer = await buildUser(world, {
    groupId: group.groupId,
    companyId: company.id,
    roles: [{ role: 'employee' }],
    name: 'Zhang San',
    departmentId: department.id,
  });
  seal = await buildSeal(world, {
    groupId: group.groupId,
    companyId: company.id,
    custodianIds: [keeper.id],
    name: SEAL_NAME,
  });
  const image = await client(world, keeper.token).post('/api/v1/seal-images/generate', {
    shape: 'round',
    company: COMPANY_NAME,
    type: '合同专用章',
  });
  expect(image.status).toBe(201);
  await world.db
    .updateTable('seals')
    .set({ image_sha256: image.body.sha256, image_media_type: image.body.mediaType })
    .where('id', '=', seal.id)
    .execute();
  const grant = await client(world, keeper.token).post(`/api/v1/seals/${seal.id}/grants`, {
    grantee: { type: 'user', userId: signer.id },
    categories: ['sales'],
  });
  expect(grant.status).toBe(201);

  original = contract();
  originalSha = await upload(signer, original);
  signed = await sign(originalSha, { appearance: { type: 'rect', page: 1, rect: [380, 80, 120, 120] } });
  signedPdf = await download(signed.id);
  rootDer = (await world.app.inject({ method: 'GET', url: '/pki/root/certificate' })).rawPayload;
  nss = nssDatabase(tmp.dir, rootDer);
});
afterAll(async () => {
  await world?.close();
  tmp?.remove();
});

describe('verifying without an account', () => {
  it("finds a platform-signed PDF valid: trusted to the root, the certificate's names, the time-stamp and its TSA, the impression, the root's link", async () => {
    const answer = await verifyPublicly(signedPdf);
    expect(answer.status, answer.text).toBe(200);
    expect(answer.headers['cache-control']).toBe('no-store');
    const report = answer.body;
    expect(report).toMatchObject({ verdict: 'valid', sha256: sha256Of(signedPdf), revisions: 2 });
    expect(report.signatures).toHaveLength(1);
    const [s] = report.signatures;
    expect(s).toMatchObject({
      index: 0,
      kind: 'signature',
      status: 'valid',
      intact: true,
      chainTrusted: true,
      certificateValidAtSigningTime: true,
      revocation: 'good',
      level: 'B-T',
      coversWholeDocument: true,
      modifiedAfter: 'none',
      changesAfter: [],
      signer: { commonName: SEAL_NAME, organization: COMPANY_NAME, subject: `CN=${SEAL_NAME}, O=${COMPANY_NAME}` },
      timestamp: { valid: true, trusted: true, authority: 'CN=Sigil Time-Stamping Authority, O=Sigil' },
    });
    expect(s.timestamp.time).toBe(s.signedAt);
    expect(Math.abs(Date.parse(s.signedAt) - Date.now())).toBeLessThan(10 * 60_000);
    expect(s.chain[0]).toBe(`CN=${SEAL_NAME}, O=${COMPANY_NAME}`);
    expect(s.chain.at(-1)).toMatch(/^CN=Sigil Root CA /);
    // The impression the page shows, as a PNG.
    expect(s.impressions).toHaveLength(1);
    expect(s.impressions[0].page).toBe(1);
    expect(Buffer.from(s.impressions[0].png, 'base64').subarray(1, 4).toString()).toBe('PNG');
    // This exact file is one the platform made, and the link to trust its seals elsewhere.
    expect(report.platformOutput.signatures).toHaveLength(1);
    expect(report.platformOutput.signatures[0]).toMatchObject({
      subject: `CN=${SEAL_NAME}, O=${COMPANY_NAME}`,
      level: 'B-T',
    });
    expect(report.rootCertificate).toEqual({ url: `${PUBLIC_URL}/pki/root/certificate`, sha256: sha256Of(rootDer) });
    // pdfsig, trusting the same root, agrees.
    expect(pdfsig(file(signedPdf), nss)[0]).toMatchObject({ signatureValid: true, certificateTrusted: true });
  });

  it('takes the file as the field of a multipart form too (as an HTML form or curl -F sends it), or as bytes of any or no type', async () => {
    // The form is encoded by undici's FormData, not by anything of ours.
    const form = new FormData();
    form.append('note', 'a field before the file');
    form.append('file', new Blob([new Uint8Array(signedPdf)], { type: 'application/pdf' }), 'contract.pdf');
    const request = new Request('http://localhost/', { method: 'POST', body: form });
    const body = Buffer.from(await request.arrayBuffer());
    const answer = await verifyPublicly(body, { type: request.headers.get('content-type')! });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body).toMatchObject({ verdict: 'valid', sha256: sha256Of(signedPdf) });
    for (const type of [null, 'application/octet-stream']) {
      const bytes = await verifyPublicly(signedPdf, { type });
      expect(bytes.status, `${type}: ${bytes.text}`).toBe(200);
      expect(bytes.body.verdict, String(type)).toBe('valid');
    }

    const empty = new FormData();
    empty.append('note', 'no file here');
    const noFile = new Request('http://localhost/', { method: 'POST', body: empty });
    const refused = await verifyPublicly(Buffer.from(await noFile.arrayBuffer()), {
      type: noFile.headers.get('content-type')!,
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: 'validation_failed', errors: [{ field: 'body.file' }] });
  });

  it('keeps nothing: no blob, no record, no file', async () => {
    const count = async (table: 'blobs' | 'blob_uploads' | 'signatures') =>
      Number(
        (
          await world.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const filesUnder = (dir: string): number =>
      readdirSync(dir).reduce(
        (n, name) => n + (statSync(join(dir, name)).isDirectory() ? filesUnder(join(dir, name)) : 1),
        0,
      );
    const before = [
      await count('blobs'),
      await count('blob_uploads'),
      await count('signatures'),
      filesUnder(world.blobDir),
    ];
    const fresh = buildPdf({ seed: 4242, lines: ['A document nobody uploaded'] });
    expect((await verifyPublicly(fresh)).body.verdict).toBe('unsigned');
    expect((await verifyPublicly(signedPdf)).body.verdict).toBe('valid');
    const after = [
      await count('blobs'),
      await count('blob_uploads'),
      await count('signatures'),
      filesUnder(world.blobDir),
    ];
    expect(after).toEqual(before);
  });
});

describe('what changed after signing', () => {
  it('one byte changed in the signed copy: not intact, red, not the platform’s file; pdfsig agrees', async () => {
    const tampered = Buffer.from(signedPdf);
    const at = tampered.indexOf('Sales contract No. 2026-001');
    expect(at).toBeGreaterThan(0);
    tampered[at + 'Sales contract No. 2026-00'.length] = '9'.charCodeAt(0);
    const { status, body } = await verifyPublicly(tampered);
    expect(status).toBe(200);
    expect(body.verdict).toBe('invalid');
    expect(body.signatures[0]).toMatchObject({ intact: false, status: 'invalid' });
    expect(body.signatures[0].problems.join(' ')).toContain('digest mismatch');
    expect(body.platformOutput).toBeNull();
    const seen = pdfsig(file(tampered), nss);
    expect(seen[0]).toMatchObject({ signatureValid: false });
  });

  it('a revision appended after signing that paints over the page: the signature holds, the document is altered and the change named; pdfsig agrees', async () => {
    const q = new QpdfView(file(signedPdf));
    const page = q.pages()[0]!;
    const n = lastTrailer(signedPdf).size;
    const altered = appendRevision(signedPdf, [
      { num: n, body: overlayAppearance(320, 70, 'AMOUNT: 999,999') },
      {
        num: n + 1,
        body: `<</Type/Annot/Subtype/Stamp/Rect[60 690 380 760]/F 4/P ${page} 0 R/AP<</N ${n} 0 R>>>>`,
      },
      { num: page, body: withAppended(q.object(page), 'Annots', `${n + 1} 0 R`) },
    ]);
    const { status, body } = await verifyPublicly(altered);
    expect(status).toBe(200);
    expect(body.verdict).toBe('invalid');
    expect(body.signatures[0]).toMatchObject({ intact: true, modifiedAfter: 'altered', coversWholeDocument: false });
    expect(body.signatures[0].changesAfter.length).toBeGreaterThan(0);
    expect(body.signatures[0].changesAfter.join('\n')).toMatch(/annotation|page/i);
    expect(body.platformOutput).toBeNull();
    // pdfsig: the signature value still verifies, but it no longer covers the whole document.
    expect(pdfsig(file(altered), nss)[0]).toMatchObject({ signatureValid: true, totalDocumentSigned: false });
  });
});

describe('a signer the platform does not vouch for', () => {
  it('a PDF signed with a self-made openssl certificate is intact but untrusted: amber, never valid', async () => {
    // A CA and a seal certificate of one's own, made with the openssl CLI.
    const at = (name: string) => join(tmp.dir, name);
    writeFileSync(at('ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
    writeFileSync(
      at('seal.ext'),
      'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,nonRepudiation\n',
    );
    for (const name of ['ca', 'seal'])
      run('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', at(`${name}.key`)]);
    run('openssl', [
      'req',
      '-new',
      '-key',
      at('ca.key'),
      '-subj',
      '/O=Self Made Trading Ltd/CN=Self Made Root',
      '-out',
      at('ca.csr'),
    ]);
    run('openssl', [
      'x509',
      '-req',
      '-in',
      at('ca.csr'),
      '-signkey',
      at('ca.key'),
      '-days',
      '30',
      '-extfile',
      at('ca.ext'),
      '-out',
      at('ca.pem'),
    ]);
    run('openssl', [
      'req',
      '-new',
      '-key',
      at('seal.key'),
      '-subj',
      '/O=Self Made Trading Ltd/CN=Self-made contract seal',
      '-out',
      at('seal.csr'),
    ]);
    run('openssl', [
      'x509',
      '-req',
      '-in',
      at('seal.csr'),
      '-CA',
      at('ca.pem'),
      '-CAkey',
      at('ca.key'),
      '-CAcreateserial',
      '-days',
      '30',
      '-extfile',
      at('seal.ext'),
      '-out',
      at('seal.pem'),
    ]);
    const certificatePem = run('openssl', ['x509', '-in', at('seal.pem')]).out;
    const keyPem = run('openssl', ['pkey', '-in', at('seal.key')]).out;
    const chainPem = run('openssl', ['x509', '-in', at('ca.pem')]).out;
    const content = 'BT /F1 24 Tf 72 720 Td (Signed with a self-made certificate) Tj ET';
    const unsigned = handPdf([
      '<</Type/Catalog/Pages 2 0 R/AcroForm<</Fields[4 0 R]/SigFlags 3>>>>',
      '<</Type/Pages/Kids[3 0 R]/Count 1>>',
      '<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 6 0 R/Annots[4 0 R]/Resources<</Font<</F1<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>>>>>>>',
      '<</Type/Annot/Subtype/Widget/FT/Sig/T(Signature1)/V 5 0 R/Rect[0 0 0 0]/F 132/P 3 0 R>>',
      signatureDictionary(),
      streamBody('', content),
    ]);
    const selfSigned = signWithOpenssl(unsigned, { certificatePem, keyPem, chainPem });

    const { status, body } = await verifyPublicly(selfSigned);
    expect(status).toBe(200);
    expect(body.verdict).toBe('unknown-signer');
    expect(body.signatures[0]).toMatchObject({
      status: 'unknown-signer',
      intact: true,
      chainTrusted: false,
      modifiedAfter: 'none',
      signer: { commonName: 'Self-made contract seal', organization: 'Self Made Trading Ltd' },
      timestamp: null,
    });
    expect(body.platformOutput).toBeNull();
    // pdfsig: the signature verifies, the certificate is not trusted.
    expect(pdfsig(file(selfSigned), nss)[0]).toMatchObject({ signatureValid: true, certificateTrusted: false });
  });
});

describe('bad uploads', () => {
  it('names the problem: not a PDF, nothing sent, damaged, too large', async () => {
    const cases: Array<[string, Buffer, string | undefined, number, string]> = [
      ['a PNG', Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), 'application/pdf', 422, 'pdf_malformed'],
      ['JSON', Buffer.from('{"pdf":"JVBERi0xLjcK"}'), 'application/json', 422, 'pdf_malformed'],
      ['text', Buffer.from('hello'), 'text/plain', 422, 'pdf_malformed'],
      ['nothing', Buffer.alloc(0), 'application/pdf', 400, 'validation_failed'],
      [
        'a truncated PDF',
        signedPdf.subarray(0, Math.floor(signedPdf.length / 3)),
        'application/pdf',
        422,
        'pdf_malformed',
      ],
    ];
    for (const [what, payload, type, status, code] of cases) {
      const answer = await verifyPublicly(payload, type ? { type } : {});
      expect(answer.status, `${what}: ${answer.text}`).toBe(status);
      expect(answer.headers['content-type'], what).toContain('application/problem+json');
      expect(answer.body.code, what).toBe(code);
      expect(answer.body.detail.length, what).toBeGreaterThan(10);
    }
    const notPdf = await verifyPublicly(Buffer.from('hello'), { type: 'text/plain' });
    expect(notPdf.body.detail).toContain('not a PDF');

    const huge = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(21 * 1024 * 1024)]);
    const tooLarge = await verifyPublicly(huge);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.code).toBe('payload_too_large');
    expect(tooLarge.body.detail).toContain('20 MB');
  });
});

describe('the rate limit per client address', () => {
  it('answers the 11th look-up in a minute with 429, Retry-After and retryAfterSeconds; another address is still served', async () => {
    const from = '10.99.0.1';
    for (let i = 0; i < 10; i++) expect((await lookUp(randomBytes(32).toString('hex'), from)).status).toBe(404);
    const refused = await lookUp(randomBytes(32).toString('hex'), from);
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('rate_limited');
    const seconds = refused.body.retryAfterSeconds;
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThanOrEqual(60);
    expect(refused.headers['retry-after']).toBe(String(seconds));
    expect((await lookUp(signed.outputSha256, '10.99.0.2')).status).toBe(200);
  });

  it('counts uploads before any work: the 11th in a minute is refused even when it is a good PDF', async () => {
    const from = '10.99.0.3';
    for (let i = 0; i < 10; i++)
      expect((await verifyPublicly(Buffer.from('not a pdf'), { from, type: 'text/plain' })).status).toBe(422);
    const refused = await verifyPublicly(signedPdf, { from });
    expect(refused.status).toBe(429);
    expect(refused.body.code).toBe('rate_limited');
    expect(Number(refused.headers['retry-after'])).toBe(refused.body.retryAfterSeconds);
    expect((await verifyPublicly(signedPdf, { from: '10.99.0.4' })).status).toBe(200);
  });

  it('takes its rate from SIGIL_PUBLIC_VERIFY_RATE_PER_MINUTE', async () => {
    const strict = await createWorld({ SIGIL_PUBLIC_VERIFY_RATE_PER_MINUTE: '2' });
    try {
      const ask = () =>
        strict.app.inject({
          method: 'GET',
          url: `/api/v1/public/verifications/${'a'.repeat(64)}`,
          remoteAddress: '10.5.5.5',
        });
      expect((await ask()).statusCode).toBe(404);
      expect((await ask()).statusCode).toBe(404);
      expect((await ask()).statusCode).toBe(429);
    } finally {
      await strict.close();
    }
  });
});

describe('looking a document up by its SHA-256', () => {
  it("finds a platform output with its signatures' subjects, a later output with both, and neither the unsigned original nor a random hash", async () => {
    const found = await lookUp(signed.outputSha256);
    expect(found.status, found.text).toBe(200);
    expect(found.headers['cache-control']).toBe('no-store');
    expect(found.body).toMatchObject({
      sha256: signed.outputSha256,
      found: true,
      signatures: [{ subject: `CN=${SEAL_NAME}, O=${COMPANY_NAME}`, level: 'B-T' }],
      rootCertificate: { url: `${PUBLIC_URL}/pki/root/certificate`, sha256: sha256Of(rootDer) },
    });
    expect(found.body.signatures[0].issuer).toBe(`CN=${GROUP_NAME} Issuing CA, O=${GROUP_NAME}`);
    expect(Date.parse(found.body.signedAt)).toBe(Date.parse(found.body.signatures[0].signedAt));

    // Stamped again: the new file carries both signatures, oldest first.
    const second = await sign(signed.outputSha256, { level: 'B-B' });
    const again = await lookUp(second.outputSha256);
    expect(again.status).toBe(200);
    expect(again.body.signatures.map((s: { level: string }) => s.level)).toEqual(['B-T', 'B-B']);
    expect(Date.parse(again.body.signedAt)).toBe(Date.parse(second.signedAt));
    const verified = await verifyPublicly(await download(second.id));
    expect(verified.body.verdict).toBe('valid');
    expect(verified.body.platformOutput.signatures).toHaveLength(2);
    expect(verified.body.signatures.map((s: { modifiedAfter: string }) => s.modifiedAfter)).toEqual([
      'signatures-and-validation-data',
      'none',
    ]);

    for (const sha of [originalSha, randomBytes(32).toString('hex')]) {
      const missing = await lookUp(sha);
      expect(missing.status).toBe(404);
      expect(missing.body.code).toBe('document_not_found');
    }
    const malformed = await lookUp('ABC');
    expect(malformed.status).toBe(400);
    expect(malformed.body.code).toBe('validation_failed');
  });
});

describe('what an answer may disclose (attack)', () => {
  it("names nothing from the platform's records: no ids, people, e-mails, departments, document names, or the head company", async () => {
    const verification = await verifyPublicly(signedPdf);
    const lookup = await lookUp(signed.outputSha256);
    expect(verification.status).toBe(200);
    expect(lookup.status).toBe(200);
    const secrets = {
      groupId: group.groupId,
      headCompanyId: group.hq.id,
      headCompany: `${GROUP_NAME} HQ`,
      companyId: company.id,
      departmentId: department.id,
      department: '法务部-保密',
      signerId: signer.id,
      signer: 'Zhang San',
      signerEmail: signer.email,
      keeperId: keeper.id,
      keeper: 'Keeper Li',
      adminEmail: group.admin.email,
      sealId: seal.id,
      signatureId: signed.id,
      // Sigil names a signature's form field after its record's id.
      fieldName: signed.fieldName,
      idInFieldName: signed.id.slice(-12),
      certificateId: signed.certificateId,
      grantId: signed.grantId!,
      documentName: DOCUMENT_NAME,
      originalSha256: originalSha,
    };
    for (const [what, answer] of [
      ['verification', verification.text],
      ['look-up', lookup.text],
    ] as const)
      for (const [name, secret] of Object.entries(secrets))
        expect(answer.includes(secret), `the ${what} discloses ${name} (${secret})`).toBe(false);
    // Nor the signed-in report's fields about the platform's records.
    for (const field of ['archive', 'userName', 'sealName', 'userId', 'fieldName', 'companyId'])
      expect(verification.text).not.toContain(`"${field}"`);
  });
});

describe('the /verify page', () => {
  it('is answered with verify.html, under the console’s headers, at /verify and below; other paths stay the console’s', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sigil-pages-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>console</title><div id="root"></div>');
    writeFileSync(join(dir, 'verify.html'), '<!doctype html><title>verify page</title><div id="root"></div>');
    const app = await buildApp({ ...world.ctx, config: { ...world.ctx.config, consoleDir: dir } }, { logger: false });
    try {
      await app.ready();
      const consolePage = await app.inject({ method: 'GET', url: '/' });
      for (const url of ['/verify', '/verify?sha256=' + 'a'.repeat(64), '/verify/by-code']) {
        const page = await app.inject({ method: 'GET', url });
        expect(page.statusCode, url).toBe(200);
        expect(page.headers['content-type'], url).toMatch(/^text\/html/);
        expect(page.body, url).toContain('verify page');
        for (const header of [
          'content-security-policy',
          'x-frame-options',
          'x-content-type-options',
          'referrer-policy',
        ])
          expect(page.headers[header], `${url} ${header}`).toBe(consolePage.headers[header]);
        expect(String(page.headers['content-security-policy'])).toContain("script-src 'self'");
        expect(page.headers['cache-control'], url).toBe('no-cache');
      }
      for (const url of ['/', '/verifyx', '/applications/01a24cb5-7043-7c35-a0ab-02fb1361bf2b'])
        expect((await app.inject({ method: 'GET', url })).body, url).toContain('console');
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
