// A stamp made directly under a standing grant while an application for the same document waits
// is shown on that application: GET /applications/{id}/document-signatures (signatures' side,
// reading the application through approvals' door) lists what was signed on its documents, by
// SHA-256 of the original, outside it — to those who may read the application, and nobody else.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPdf } from './signing/pdf-fixtures.js';
import { nssDatabase, pdfsig, tempDir } from './signing/support.js';
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

let world: World;
let group: GroupFixture;
let other: GroupFixture;
let head: User;
let applicant: User;
let colleague: User;
let keeper: User;
let seal: { id: string };

beforeAll(async () => {
  world = await createWorld();
  group = await buildGroup(world, 'Outside Stamps Group');
  other = await buildGroup(world, 'Another Group');
  const company = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: '华夏贸易有限公司' });
  keeper = await buildUser(world, {
    groupId: group.groupId,
    companyId: company.id,
    roles: [{ role: 'seal_admin' }],
    name: 'Keeper',
  });
  head = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: 'Head' });
  const department = await client(world, group.admin.token).post('/api/v1/departments', {
    companyId: company.id,
    name: 'Sales',
    headUserId: head.id,
  });
  expect(department.status).toBe(201);
  applicant = await buildUser(world, {
    groupId: group.groupId,
    companyId: company.id,
    departmentId: department.body.id,
    name: 'Zhang San',
  });
  colleague = await buildUser(world, { groupId: group.groupId, companyId: company.id, name: 'Li Si' });
  seal = await buildSeal(world, {
    groupId: group.groupId,
    companyId: company.id,
    custodianIds: [keeper.id],
    name: '华夏贸易合同专用章',
  });
  for (const user of [applicant, colleague]) {
    const grant = await client(world, keeper.token).post(`/api/v1/seals/${seal.id}/grants`, {
      grantee: { type: 'user', userId: user.id },
      categories: ['sales'],
    });
    expect(grant.status).toBe(201);
  }
  const flow = await client(world, keeper.token).post('/api/v1/flows', {
    companyId: company.id,
    category: 'sales',
    name: 'Sales seal use',
    definition: { levels: [{ name: 'Head', mode: 'any', approvers: [{ type: 'department_head' }] }] },
  });
  expect(flow.status).toBe(201);
});
afterAll(() => world?.close());

async function upload(user: User, bytes: Buffer, name: string): Promise<string> {
  const response = await world.app.inject({
    method: 'POST',
    url: `/api/v1/documents/uploads?name=${encodeURIComponent(name)}`,
    headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/pdf' },
    payload: bytes,
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().sha256 as string;
}

async function applyFor(documents: Array<{ sha256: string; name: string }>) {
  const submitted = await client(world, applicant.token).post('/api/v1/applications', {
    sealIds: [seal.id],
    category: 'sales',
    reason: '销售合同用印',
    uses: 2,
    documents,
  });
  expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
  return submitted.body as { id: string };
}

const stampUnderGrant = async (user: User, documentSha256: string) => {
  const signed = await client(world, user.token).post('/api/v1/signatures', {
    documentSha256,
    sealId: seal.id,
    category: 'sales',
    level: 'B-B',
  });
  expect(signed.status, JSON.stringify(signed.body)).toBe(201);
  return signed.body as { id: string; outputSha256: string; signedAt: string };
};

const outside = (user: User | null, applicationId: string) =>
  client(world, user?.token).get(`/api/v1/applications/${applicationId}/document-signatures`);

describe('GET /applications/{id}/document-signatures', () => {
  it('answers 401 without a token and 400 for an id that is no UUID', async () => {
    const application = await applyFor([]);
    expect((await outside(null, application.id)).status).toBe(401);
    const bad = await client(world, applicant.token).get('/api/v1/applications/not-an-id/document-signatures');
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.errors)).toContain('params.applicationId');
  });

  it('shows the applicant and the approver a stamp made under a grant while the application waits', async () => {
    const bytes = buildPdf({ pages: 2, seed: 301 });
    const contract = await upload(applicant, bytes, '购销合同.pdf');
    const unrelated = await upload(applicant, buildPdf({ pages: 1, seed: 302 }), '其他.pdf');
    const application = await applyFor([{ sha256: contract, name: '购销合同.pdf' }]);
    expect((await outside(applicant, application.id)).body).toEqual({ items: [], more: false });

    // A colleague with the same file stamps it under their own grant, then once more on that copy; and another file.
    expect(await upload(colleague, bytes, 'contract.pdf')).toBe(contract);
    const first = await stampUnderGrant(colleague, contract);
    const again = await stampUnderGrant(colleague, first.outputSha256);
    await stampUnderGrant(applicant, unrelated);

    for (const reader of [applicant, head]) {
      const seen = await outside(reader, application.id);
      expect(seen.status).toBe(200);
      expect(seen.body.more).toBe(false);
      expect(seen.body.items.map((s: { id: string }) => s.id)).toEqual([again.id, first.id]);
      expect(seen.body.items[1]).toEqual({
        id: first.id,
        originalSha256: contract,
        documentName: '购销合同.pdf',
        userId: colleague.id,
        userName: 'Li Si',
        sealId: seal.id,
        sealName: '华夏贸易合同专用章',
        category: 'sales',
        basis: 'grant',
        signedAt: first.signedAt,
      });
    }

    // The application itself is still pending: the approver decides knowing the document is stamped.
    expect((await client(world, head.token).get(`/api/v1/applications/${application.id}`)).body.status).toBe('pending');

    // The stamps listed are real: poppler's pdfsig finds both signatures valid in the chain's last file.
    const raw = async (url: string, user?: User) =>
      (
        await world.app.inject({
          method: 'GET',
          url,
          headers: user ? { authorization: `Bearer ${user.token}` } : {},
        })
      ).rawPayload;
    const tmp = tempDir('sigil-outside-');
    try {
      const seenByPdfsig = pdfsig(
        tmp.file('stamped.pdf', await raw(`/api/v1/signatures/${again.id}/document`, colleague)),
        nssDatabase(join(tmp.dir, 'nss'), await raw('/pki/root/certificate')),
      );
      expect(seenByPdfsig.map((s) => s.signatureValid)).toEqual([true, true]);
    } finally {
      tmp.remove();
    }
  });

  it('leaves out what was stamped under the application’s own authorization', async () => {
    const contract = await upload(applicant, buildPdf({ pages: 1, seed: 311 }), 'lease.pdf');
    const application = await applyFor([{ sha256: contract, name: 'lease.pdf' }]);
    // The applicant does not wait for the approval and stamps under the grant they also hold.
    const byGrant = await stampUnderGrant(applicant, contract);
    const tasks = await client(world, head.token).get('/api/v1/tasks?status=pending');
    const task = tasks.body.items.find((t: { applicationId: string }) => t.applicationId === application.id);
    expect((await client(world, head.token).post(`/api/v1/tasks/${task.id}/approve`, {})).status).toBe(200);
    const approved = (await client(world, applicant.token).get(`/api/v1/applications/${application.id}`)).body;
    const authorization = approved.authorizations.find((a: { kind: string }) => a.kind === 'documents');
    expect(authorization).toBeTruthy();
    const byApplication = await client(world, applicant.token).post('/api/v1/signatures', {
      documentSha256: contract,
      sealId: seal.id,
      authorizationId: authorization.id,
      level: 'B-B',
    });
    expect(byApplication.status, JSON.stringify(byApplication.body)).toBe(201);
    // Both are over the same original; only the grant's stamp is outside the application.
    const chain = await client(world, keeper.token).get(`/api/v1/signatures?originalSha256=${contract}`);
    expect(chain.body.items.map((s: { id: string }) => s.id).sort()).toEqual(
      [byGrant.id, byApplication.body.id].sort(),
    );
    const seen = await outside(applicant, application.id);
    expect(seen.body.items.map((s: { id: string; basis: string }) => [s.id, s.basis])).toEqual([[byGrant.id, 'grant']]);
  });

  it('tells nobody who may not read the application, not even that it exists', async () => {
    const bytes = buildPdf({ pages: 1, seed: 321 });
    const contract = await upload(applicant, bytes, 'secret.pdf');
    const application = await applyFor([{ sha256: contract, name: 'secret.pdf' }]);
    expect(await upload(colleague, bytes, 'secret.pdf')).toBe(contract);
    await stampUnderGrant(colleague, contract);
    const stranger = await buildUser(world, { groupId: other.groupId, companyId: other.hq.id, name: 'Stranger' });
    // The colleague stamped the document but takes no part in the application; a stranger is of another group.
    for (const reader of [colleague, stranger]) {
      const refused = await outside(reader, application.id);
      expect(refused.status).toBe(404);
      expect(refused.body.code).toBe('application_not_found');
    }
    const missing = await outside(applicant, '01900000-0000-7000-8000-000000000000');
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe('application_not_found');
  });

  it('finds a stamp by the original’s hash only: a copy with one byte appended is another document', async () => {
    const bytes = buildPdf({ pages: 1, seed: 331 });
    const contract = await upload(applicant, bytes, 'original.pdf');
    // The same PDF with a comment line appended (still a PDF to every reader) hashes differently.
    const altered = await upload(applicant, Buffer.concat([bytes, Buffer.from('% appended\n')]), 'copy.pdf');
    expect(altered).not.toBe(contract);
    const application = await applyFor([{ sha256: contract, name: 'original.pdf' }]);
    const tmp = tempDir('sigil-outside-');
    try {
      const path = tmp.file('copy.pdf', Buffer.concat([bytes, Buffer.from('% appended\n')]));
      expect(execFileSync('sha256sum', [path]).toString().split(' ')[0]).toBe(altered);
    } finally {
      tmp.remove();
    }
    await stampUnderGrant(applicant, altered);
    expect((await outside(applicant, application.id)).body.items).toEqual([]);
  });
});
