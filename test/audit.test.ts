import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { canonicalJson } from '../src/lib/canonical-json.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCompany, buildGroup, buildUser, client, createWorld, type GroupFixture, type World } from './support/world.js';

let world: World;
let group: GroupFixture;
let auditorToken: string;
beforeAll(async () => {
  world = await createWorld();
  group = await buildGroup(world);
  auditorToken = (await buildUser(world, { groupId: group.groupId, companyId: group.hq.id, roles: [{ role: 'security_auditor' }] })).token;
});
afterAll(() => world.close());

const verify = async () => (await client(world, auditorToken).get('/api/v1/audit-events/verify')).body;

describe('audit log', () => {
  it('records each change with actor, address, user agent, target and what changed', async () => {
    const response = await world.app.inject({
      method: 'POST',
      url: '/api/v1/companies',
      headers: { authorization: `Bearer ${group.admin.token}`, 'user-agent': 'audit-test/1.0', 'x-request-id': 'req-audit-1' },
      payload: { parentId: group.hq.id, name: 'Audited Ltd', code: 'AUD' },
    });
    const company = response.json();
    const events = await client(world, auditorToken).get(`/api/v1/audit-events?targetId=${company.id}`);
    expect(events.status).toBe(200);
    expect(events.body.items).toHaveLength(1);
    expect(events.body.items[0]).toMatchObject({
      action: 'company.created',
      actor: { type: 'user', id: group.admin.id, name: 'Admin' },
      userAgent: 'audit-test/1.0',
      requestId: 'req-audit-1',
      ip: '127.0.0.1',
      target: { type: 'company', id: company.id },
      companyId: company.id,
      changes: { name: 'Audited Ltd', code: 'AUD', parentId: group.hq.id },
      valid: true,
    });
  });

  it('filters by action, actor and time, newest first, and pages with beforeSeq', async () => {
    const api = client(world, auditorToken);
    const all = await api.get('/api/v1/audit-events?limit=500');
    const seqs = all.body.items.map((e: { seq: number }) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    const created = await api.get('/api/v1/audit-events?action=company.created');
    expect(created.body.items.every((e: { action: string }) => e.action === 'company.created')).toBe(true);
    const byPrefix = await api.get('/api/v1/audit-events?actionPrefix=role.');
    expect(byPrefix.body.items.every((e: { action: string }) => e.action.startsWith('role.'))).toBe(true);
    const byActor = await api.get(`/api/v1/audit-events?actorId=${group.admin.id}`);
    expect(byActor.body.items.length).toBeGreaterThan(0);
    const future = await api.get(`/api/v1/audit-events?from=${encodeURIComponent(new Date(Date.now() + 86_400_000).toISOString())}`);
    expect(future.body.items).toEqual([]);
    const page1 = await api.get('/api/v1/audit-events?limit=2');
    const page2 = await api.get(`/api/v1/audit-events?limit=2&beforeSeq=${page1.body.nextBeforeSeq}`);
    expect(page2.body.items[0].seq).toBeLessThan(page1.body.items[1].seq);
    expect((await api.get('/api/v1/audit-events?action=company.exploded')).status).toBe(400);
  });

  it('shows a subsidiary auditor only the events of their subtree', async () => {
    const sub = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: 'Audited Sub' });
    const other = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: 'Other Sub' });
    const subAuditor = await buildUser(world, { groupId: group.groupId, companyId: sub.id, roles: [{ role: 'security_auditor' }] });
    const admin = client(world, group.admin.token);
    await admin.post('/api/v1/departments', { companyId: sub.id, name: 'Inside' });
    await admin.post('/api/v1/departments', { companyId: other.id, name: 'Outside' });
    const seen = await client(world, subAuditor.token).get('/api/v1/audit-events?action=department.created');
    expect(seen.body.items.map((e: { changes: { name: string } }) => e.changes.name)).toEqual(['Inside']);
    const groupWide = await client(world, subAuditor.token).get('/api/v1/audit-events?action=group.created');
    expect(groupWide.body.items).toEqual([]);
  });

  it('is readable by auditors only', async () => {
    expect((await client(world, group.admin.token).get('/api/v1/audit-events')).status).toBe(403);
  });

  it('writes no event when the change fails, and keeps the chain intact', async () => {
    const before = await verify();
    const refused = await client(world, group.admin.token).post('/api/v1/companies', { parentId: group.hq.id, name: 'Dup', code: 'AUD' });
    expect(refused.status).toBe(409);
    const after = await verify();
    expect(after).toMatchObject({ intact: true, headSeq: before.headSeq });
  });

  it('keeps one unbroken chain under concurrent writers', async () => {
    const api = client(world, group.admin.token);
    await Promise.all(Array.from({ length: 20 }, (_, i) => api.post('/api/v1/companies', { parentId: group.hq.id, name: `Parallel ${i}`, code: `PAR-${i}` })));
    const report = await verify();
    expect(report.intact).toBe(true);
    expect(report.checked).toBe(report.headSeq);
  });
});

describe('audit chain verification finds tampering', () => {
  async function tamper(world: World, statement: ReturnType<typeof sql>) {
    await statement.execute(world.db);
  }

  it('finds a row changed by hand', async () => {
    const w = await createWorld();
    try {
      const g = await buildGroup(w);
      const auditor = await buildUser(w, { groupId: g.groupId, companyId: g.hq.id, roles: [{ role: 'security_auditor' }] });
      await client(w, g.admin.token).post('/api/v1/companies', { parentId: g.hq.id, name: 'Honest Ltd', code: 'HON' });
      expect((await client(w, auditor.token).get('/api/v1/audit-events/verify')).body.intact).toBe(true);
      const target = await w.db.selectFrom('audit_events').select('seq').where('group_id', '=', g.groupId).where('action', '=', 'company.created').orderBy('seq', 'desc').executeTakeFirstOrThrow();
      await tamper(w, sql`update audit_events set changes = jsonb_set(changes, '{name}', '"Crooked Ltd"') where group_id = ${g.groupId} and seq = ${target.seq}`);
      const report = (await client(w, auditor.token).get('/api/v1/audit-events/verify')).body;
      expect(report).toMatchObject({ intact: false, firstProblem: { kind: 'altered', seq: target.seq } });
    } finally {
      await w.close();
    }
  });

  it('finds a deleted row, in the middle and at the end', async () => {
    const w = await createWorld();
    try {
      const g = await buildGroup(w);
      const auditor = await buildUser(w, { groupId: g.groupId, companyId: g.hq.id, roles: [{ role: 'security_auditor' }] });
      for (const code of ['A1', 'A2', 'A3']) await client(w, g.admin.token).post('/api/v1/companies', { parentId: g.hq.id, name: code, code });
      const head = await w.db.selectFrom('audit_heads').select('seq').where('group_id', '=', g.groupId).executeTakeFirstOrThrow();
      await tamper(w, sql`delete from audit_events where group_id = ${g.groupId} and seq = ${head.seq}`);
      expect((await client(w, auditor.token).get('/api/v1/audit-events/verify')).body.firstProblem).toMatchObject({ kind: 'missing', seq: head.seq });
      await tamper(w, sql`delete from audit_events where group_id = ${g.groupId} and seq = 2`);
      expect((await client(w, auditor.token).get('/api/v1/audit-events/verify')).body.firstProblem).toMatchObject({ kind: 'missing', seq: 2 });
    } finally {
      await w.close();
    }
  });

  it('verifies rows written under chain version 1 (the server linked them) followed by version 2 rows, and a row whose version was changed is altered', async () => {
    const w = await createWorld();
    try {
      const g = await buildGroup(w);
      const auditor = await buildUser(w, { groupId: g.groupId, companyId: g.hq.id, roles: [{ role: 'security_auditor' }] });
      // A version 1 row as releases before migration 20261121T1900 wrote them: the hash covers the whole row, its place included.
      const head = await w.db.selectFrom('audit_heads').select(['seq', 'hash']).where('group_id', '=', g.groupId).executeTakeFirstOrThrow();
      const row = { groupId: g.groupId, seq: head.seq + 1, id: '01a1ff27-0000-7000-8000-000000000001', occurredAt: '2026-01-02T03:04:05.678Z', actorType: 'system', actorId: null, actorName: 'migration test', ip: null, userAgent: null, requestId: null, action: 'company.created', targetType: 'company', targetId: g.hq.id, companyId: g.hq.id, changes: { name: 'Old Ltd', code: 'OLD', parentId: null }, prevHash: head.hash };
      const hash = createHash('sha256').update(canonicalJson(row)).digest('hex');
      await sql`insert into audit_events (group_id, seq, id, occurred_at, actor_type, actor_name, action, target_type, target_id, company_id, changes, prev_hash, hash, chain_version)
                values (${g.groupId}, ${row.seq}, ${row.id}, ${row.occurredAt}, 'system', ${row.actorName}, ${row.action}, 'company', ${g.hq.id}, ${g.hq.id}, ${JSON.stringify(row.changes)}, ${head.hash}, ${hash}, 1)`.execute(w.db);
      await sql`update audit_heads set seq = ${row.seq}, hash = ${hash} where group_id = ${g.groupId}`.execute(w.db);
      await client(w, g.admin.token).post('/api/v1/companies', { parentId: g.hq.id, name: 'New Ltd', code: 'NEW' });
      const report = (await client(w, auditor.token).get('/api/v1/audit-events/verify')).body;
      expect(report).toMatchObject({ intact: true, headSeq: row.seq + 1 });
      const next = await w.db.selectFrom('audit_events').select(['prev_hash', 'chain_version']).where('group_id', '=', g.groupId).where('seq', '=', row.seq + 1).executeTakeFirstOrThrow();
      expect(next).toEqual({ prev_hash: hash, chain_version: 2 });

      await sql`update audit_events set chain_version = 1 where group_id = ${g.groupId} and seq = ${row.seq + 1}`.execute(w.db);
      expect((await client(w, auditor.token).get('/api/v1/audit-events/verify')).body.firstProblem).toMatchObject({ kind: 'altered', seq: row.seq + 1 });
    } finally {
      await w.close();
    }
  });

  it('finds a row inserted by hand', async () => {
    const w = await createWorld();
    try {
      const g = await buildGroup(w);
      const auditor = await buildUser(w, { groupId: g.groupId, companyId: g.hq.id, roles: [{ role: 'security_auditor' }] });
      const last = await w.db.selectFrom('audit_events').selectAll().where('group_id', '=', g.groupId).orderBy('seq', 'desc').executeTakeFirstOrThrow();
      await tamper(
        w,
        sql`insert into audit_events (group_id, seq, id, occurred_at, actor_type, action, target_type, changes, prev_hash, hash)
            values (${g.groupId}, ${last.seq + 1}, gen_random_uuid(), now(), 'system', 'user.unlocked', 'user', '{}', ${last.hash}, ${'f'.repeat(64)})`,
      );
      expect((await client(w, auditor.token).get('/api/v1/audit-events/verify')).body.firstProblem).toMatchObject({ kind: 'inserted', seq: last.seq + 1 });
    } finally {
      await w.close();
    }
  });
});
