import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { canonicalJson } from '../src/lib/canonical-json.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuditSealer } from '../src/modules/audit/audit.sealer.js';
import { recordAudits } from '../src/modules/audit/audit.service.js';
import {
  buildCompany,
  buildGroup,
  buildUser,
  client,
  createWorld,
  type GroupFixture,
  type World,
} from './support/world.js';

let world: World;
let group: GroupFixture;
let auditorToken: string;
beforeAll(async () => {
  world = await createWorld();
  group = await buildGroup(world);
  auditorToken = (
    await buildUser(world, { groupId: group.groupId, companyId: group.hq.id, roles: [{ role: 'security_auditor' }] })
  ).token;
});
afterAll(() => world.close());

const verify = async () => (await client(world, auditorToken).get('/api/v1/audit-events/verify')).body;

describe('audit log', () => {
  it('records each change with actor, address, user agent, target and what changed', async () => {
    const response = await world.app.inject({
      method: 'POST',
      url: '/api/v1/companies',
      headers: {
        authorization: `Bearer ${group.admin.token}`,
        'user-agent': 'audit-test/1.0',
        'x-request-id': 'req-audit-1',
      },
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
    const future = await api.get(
      `/api/v1/audit-events?from=${encodeURIComponent(new Date(Date.now() + 86_400_000).toISOString())}`,
    );
    expect(future.body.items).toEqual([]);
    const page1 = await api.get('/api/v1/audit-events?limit=2');
    const page2 = await api.get(`/api/v1/audit-events?limit=2&beforeSeq=${page1.body.nextBeforeSeq}`);
    expect(page2.body.items[0].seq).toBeLessThan(page1.body.items[1].seq);
    expect((await api.get('/api/v1/audit-events?action=company.exploded')).status).toBe(400);
  });

  it('shows a subsidiary auditor only the events of their subtree', async () => {
    const sub = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: 'Audited Sub' });
    const other = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: 'Other Sub' });
    const subAuditor = await buildUser(world, {
      groupId: group.groupId,
      companyId: sub.id,
      roles: [{ role: 'security_auditor' }],
    });
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

  // Links carry no key to groups of their own (migration 20261210T0910): the events' key is what
  // keeps a log's group real, and the sealer links only events. Both refused here.
  it('refuses events of a group that does not exist, so no link can name one', async () => {
    const nowhere = '0193a000-0000-7000-8000-00000000dead';
    await expect(
      world.db.transaction().execute((trx) =>
        recordAudits(trx, {
          groupId: nowhere,
          actor: { system: 'test' },
          events: [
            {
              action: 'application.level_completed',
              target: { type: 'application', id: '0193a000-0000-7000-8000-00000000a991' },
              companyId: null,
              changes: { level: 1 },
            },
          ],
        }),
      ),
    ).rejects.toMatchObject({ code: '23503' });
    await new AuditSealer(world.db, { warn: () => undefined }).sealAll();
    for (const table of ['audit_events', 'audit_pending', 'audit_links'] as const)
      expect(
        (
          await sql<{
            n: number;
          }>`select count(*)::int as n from ${sql.table(table)} where group_id = ${nowhere}`.execute(world.db)
        ).rows[0]!.n,
      ).toBe(0);
  });

  it('writes no event when the change fails, and keeps the chain intact', async () => {
    const before = await verify();
    const refused = await client(world, group.admin.token).post('/api/v1/companies', {
      parentId: group.hq.id,
      name: 'Dup',
      code: 'AUD',
    });
    expect(refused.status).toBe(409);
    const after = await verify();
    expect(after).toMatchObject({ intact: true, headSeq: before.headSeq });
  });

  it('keeps one unbroken chain under concurrent writers', async () => {
    const api = client(world, group.admin.token);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        api.post('/api/v1/companies', { parentId: group.hq.id, name: `Parallel ${i}`, code: `PAR-${i}` }),
      ),
    );
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
      const auditor = await buildUser(w, {
        groupId: g.groupId,
        companyId: g.hq.id,
        roles: [{ role: 'security_auditor' }],
      });
      await client(w, g.admin.token).post('/api/v1/companies', { parentId: g.hq.id, name: 'Honest Ltd', code: 'HON' });
      expect((await client(w, auditor.token).get('/api/v1/audit-events/verify')).body.intact).toBe(true);
      const target = await w.db
        .selectFrom('audit_events')
        .select('seq')
        .where('group_id', '=', g.groupId)
        .where('action', '=', 'company.created')
        .orderBy('seq', 'desc')
        .executeTakeFirstOrThrow();
      await tamper(
        w,
        sql`update audit_events set changes = jsonb_set(changes, '{name}', '"Crooked Ltd"') where group_id = ${g.groupId} and seq = ${target.seq}`,
      );
      const report = (await client(w, auditor.token).get('/api/v1/audit-events/verify')).body;
      expect(report).toMatchObject({ intact: false, firstProblem: { kind: 'altered', seq: target.seq } });
    } finally {
      await w.close();
    }
  });

  /** The event at each place of the group's version 3 chain, sealed first (by a verification). */
  async function linkedEvents(w: World, token: string, groupId: string) {
    expect((await client(w, token).get('/api/v1/audit-events/verify')).body.intact).toBe(true);
    return w.db
      .selectFrom('audit_links')
      .select(['seq as place', 'event_seq'])
      .where('group_id', '=', groupId)
      .orderBy('seq')
      .execute();
  }

  it('finds a deleted event, in the middle and at the end, and a deleted link', async () => {
    const w = await createWorld();
    try {
      const g = await buildGroup(w);
      const auditor = await buildUser(w, {
        groupId: g.groupId,
        companyId: g.hq.id,
        roles: [{ role: 'security_auditor' }],
      });
      for (const code of ['A1', 'A2', 'A3'])
        await client(w, g.admin.token).post('/api/v1/companies', { parentId: g.hq.id, name: code, code });
      const links = await linkedEvents(w, auditor.token, g.groupId);
      const last = links.at(-1)!;
      await tamper(w, sql`delete from audit_events where group_id = ${g.groupId} and seq = ${last.event_seq}`);
      expect((await client(w, auditor.token).get('/api/v1/audit-events/verify')).body.firstProblem).toMatchObject({
        kind: 'missing',
        seq: last.event_seq,
      });
      await tamper(w, sql`delete from audit_events where group_id = ${g.groupId} and seq = ${links[1]!.event_seq}`);
      expect((await client(w, auditor.token).get('/api/v1/audit-events/verify')).body.firstProblem).toMatchObject({
        kind: 'missing',
        seq: links[1]!.event_seq,
      });
      // Both the event and its link gone: the place is missing.
      await tamper(w, sql`delete from audit_links where group_id = ${g.groupId} and seq = 2`);
      expect((await client(w, auditor.token).get('/api/v1/audit-events/verify')).body.firstProblem).toMatchObject({
        kind: 'missing',
        seq: 2,
        eventId: null,
      });
    } finally {
      await w.close();
    }
  });

  it('verifies a chain written under versions 1 and 2 (linked in the row) and continued by the sealer, and a row whose version was changed is altered', async () => {
    const w = await createWorld();
    try {
      // As after migration 20261121T2000: the old rows hold places 1 and 2, and new events are numbered above them.
      await sql`select setval('audit_event_seq', 1000)`.execute(w.db);
      const g = await buildGroup(w);
      const auditor = await buildUser(w, {
        groupId: g.groupId,
        companyId: g.hq.id,
        roles: [{ role: 'security_auditor' }],
      });
      const said = (id: string, name: string) => ({
        id,
        occurredAt: '2026-01-02T03:04:05.678Z',
        actorType: 'system',
        actorId: null,
        actorName: 'migration test',
        ip: null,
        userAgent: null,
        requestId: null,
        action: 'company.created',
        targetType: 'company',
        targetId: g.hq.id,
        companyId: g.hq.id,
        changes: { name, code: name.toUpperCase(), parentId: null },
      });
      const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
      const insert = (seq: number, event: ReturnType<typeof said>, prevHash: string, hash: string, version: number) =>
        sql`insert into audit_events (group_id, seq, id, occurred_at, actor_type, actor_name, action, target_type, target_id, company_id, changes, prev_hash, hash, chain_version)
            values (${g.groupId}, ${seq}, ${event.id}, ${event.occurredAt}, 'system', ${event.actorName}, ${event.action}, 'company', ${g.hq.id}, ${g.hq.id}, ${JSON.stringify(event.changes)}, ${prevHash}, ${hash}, ${version})`.execute(
          w.db,
        );
      // Version 1, as releases before migration 20261121T1900 wrote it: the hash covers the whole row, its place included.
      const first = said('01a1ff27-0000-7000-8000-000000000001', 'old');
      const hash1 = sha256(canonicalJson({ groupId: g.groupId, seq: 1, ...first, prevHash: '0'.repeat(64) }));
      await insert(1, first, '0'.repeat(64), hash1, 1);
      // Version 2, as sigil_audit_append linked it in the row until 20261121T2000.
      const second = said('01a1ff27-0000-7000-8000-000000000002', 'older');
      const hash2 = sha256(`${hash1}:2:${sha256(canonicalJson({ groupId: g.groupId, ...second }))}`);
      await insert(2, second, hash1, hash2, 2);
      await sql`insert into audit_heads (group_id, seq, hash) values (${g.groupId}, 2, ${hash2})`.execute(w.db);

      await client(w, g.admin.token).post('/api/v1/companies', { parentId: g.hq.id, name: 'New Ltd', code: 'NEW' });
      const events = await w.db
        .selectFrom('audit_events')
        .select(({ fn }) => fn.countAll<number>().as('n'))
        .where('group_id', '=', g.groupId)
        .executeTakeFirstOrThrow();
      const report = (await client(w, auditor.token).get('/api/v1/audit-events/verify')).body;
      expect(report).toMatchObject({ intact: true, headSeq: Number(events.n), checked: Number(events.n) });
      const third = await w.db
        .selectFrom('audit_links')
        .select(['prev_hash', 'event_seq'])
        .where('group_id', '=', g.groupId)
        .where('seq', '=', 3)
        .executeTakeFirstOrThrow();
      expect(third.prev_hash).toBe(hash2);
      expect(third.event_seq).toBeGreaterThan(1000);

      await sql`update audit_events set chain_version = 1 where group_id = ${g.groupId} and seq = 2`.execute(w.db);
      expect((await client(w, auditor.token).get('/api/v1/audit-events/verify')).body.firstProblem).toMatchObject({
        kind: 'altered',
        seq: 2,
      });
    } finally {
      await w.close();
    }
  });

  it('finds an event inserted by hand, that no place of the chain holds', async () => {
    const w = await createWorld();
    try {
      const g = await buildGroup(w);
      const auditor = await buildUser(w, {
        groupId: g.groupId,
        companyId: g.hq.id,
        roles: [{ role: 'security_auditor' }],
      });
      await linkedEvents(w, auditor.token, g.groupId);
      const { rows } = await sql<{ seq: number }>`
        insert into audit_events (group_id, seq, id, occurred_at, actor_type, action, target_type, changes, content_hash)
        values (${g.groupId}, nextval('audit_event_seq'), gen_random_uuid(), now(), 'system', 'user.unlocked', 'user', '{}', ${'f'.repeat(64)})
        returning seq`.execute(w.db);
      expect((await client(w, auditor.token).get('/api/v1/audit-events/verify')).body.firstProblem).toMatchObject({
        kind: 'inserted',
        seq: Number(rows[0]!.seq),
      });
    } finally {
      await w.close();
    }
  });

  // Verification finds version 1–3 events through partial indexes of those versions
  // (migration 20261208T1100), and counts the linkable events from them: these attacks go
  // through exactly those paths.
  it('finds an event relabelled as version 3 with its old content hash and then changed, and a version 3 event inserted by hand', async () => {
    const w = await createWorld();
    try {
      const g = await buildGroup(w);
      const auditor = await buildUser(w, {
        groupId: g.groupId,
        companyId: g.hq.id,
        roles: [{ role: 'security_auditor' }],
      });
      await client(w, g.admin.token).post('/api/v1/companies', { parentId: g.hq.id, name: 'Honest Ltd', code: 'HON' });
      const links = await linkedEvents(w, auditor.token, g.groupId);
      const target = links.at(-1)!;
      // A version 3 link is checked against the content hash stored in the row, which the
      // relabelled event keeps: its link still holds, and only the check of what a version 3
      // event says against that hash (the server's canonical JSON) can find the change.
      await tamper(
        w,
        sql`update audit_events e
            set chain_version = 3, content_hash = encode(sha256(convert_to(sigil_audit_said(e), 'UTF8')), 'hex')
            where group_id = ${g.groupId} and seq = ${target.event_seq}`,
      );
      await tamper(
        w,
        sql`update audit_events set changes = jsonb_set(changes, '{name}', '"Crooked Ltd"') where group_id = ${g.groupId} and seq = ${target.event_seq}`,
      );
      expect((await client(w, auditor.token).get('/api/v1/audit-events/verify')).body).toMatchObject({
        intact: false,
        firstProblem: { kind: 'altered', seq: target.event_seq },
      });

      const h = await createWorld();
      try {
        const other = await buildGroup(h);
        const otherAuditor = await buildUser(h, {
          groupId: other.groupId,
          companyId: other.hq.id,
          roles: [{ role: 'security_auditor' }],
        });
        await linkedEvents(h, otherAuditor.token, other.groupId);
        const { rows } = await sql<{ seq: number }>`
          insert into audit_events (group_id, seq, id, occurred_at, actor_type, action, target_type, changes, content_hash, chain_version)
          values (${other.groupId}, nextval('audit_event_seq'), gen_random_uuid(), now(), 'system', 'user.unlocked', 'user', '{}', ${'f'.repeat(64)}, 3)
          returning seq`.execute(h.db);
        expect(
          (await client(h, otherAuditor.token).get('/api/v1/audit-events/verify')).body.firstProblem,
        ).toMatchObject({
          kind: 'inserted',
          seq: Number(rows[0]!.seq),
        });
      } finally {
        await h.close();
      }
    } finally {
      await w.close();
    }
  });
});

describe('audit sealer', () => {
  it('keeps the order a change gave its events, in the log and in the chain', async () => {
    const names = ['first', 'second', 'third', 'fourth'];
    await world.db.transaction().execute((trx) =>
      recordAudits(trx, {
        groupId: group.groupId,
        actor: { system: 'order test' },
        events: names.map((name) => ({
          action: 'company.created' as const,
          target: { type: 'company', id: group.hq.id },
          companyId: group.hq.id,
          changes: { name, code: name.toUpperCase(), parentId: null },
        })),
      }),
    );
    expect((await verify()).intact).toBe(true);
    const rows = await world.db
      .selectFrom('audit_events as e')
      .innerJoin('audit_links as l', (join) =>
        join.onRef('l.group_id', '=', 'e.group_id').onRef('l.event_seq', '=', 'e.seq'),
      )
      .select(['e.seq', 'l.seq as place', sql<string>`e.changes->>'name'`.as('name')])
      .where('e.group_id', '=', group.groupId)
      .where('e.actor_name', '=', 'order test')
      .orderBy('e.seq')
      .execute();
    expect(rows.map((r) => r.name)).toEqual(names);
    expect(rows.map((r) => r.place)).toEqual([...rows.map((r) => r.place)].sort((a, b) => a - b));
  });

  it('links what concurrent writers committed, once each, however many sealers run, and the log shows each hash once linked', async () => {
    const w = await createWorld();
    try {
      const g = await buildGroup(w);
      const auditor = await buildUser(w, {
        groupId: g.groupId,
        companyId: g.hq.id,
        roles: [{ role: 'security_auditor' }],
      });
      const api = client(w, g.admin.token);
      const created = await api.post('/api/v1/companies', { parentId: g.hq.id, name: 'Sealed Ltd', code: 'SEALED' });
      const before = (await client(w, auditor.token).get(`/api/v1/audit-events?targetId=${created.body.id}`)).body
        .items[0];
      expect(before.hash).toBeNull();

      const sealers = [
        new AuditSealer(w.db, { warn: () => undefined }, 5),
        new AuditSealer(w.db, { warn: () => undefined }, 7),
      ];
      for (const sealer of sealers) sealer.start();
      try {
        await Promise.all(
          Array.from({ length: 30 }, (_, i) =>
            api.post('/api/v1/companies', { parentId: g.hq.id, name: `Sealed ${i}`, code: `SEALED-${i}` }),
          ),
        );
        for (
          let i = 0;
          i < 200 &&
          (await w.db.selectFrom('audit_pending').select('seq').where('group_id', '=', g.groupId).execute()).length > 0;
          i++
        )
          await sleep(10);
      } finally {
        for (const sealer of sealers) await sealer.stop();
      }
      expect(await w.db.selectFrom('audit_pending').selectAll().where('group_id', '=', g.groupId).execute()).toEqual(
        [],
      );
      const after = (await client(w, auditor.token).get(`/api/v1/audit-events?targetId=${created.body.id}`)).body
        .items[0];
      const link = await w.db
        .selectFrom('audit_links')
        .select('hash')
        .where('group_id', '=', g.groupId)
        .where('event_seq', '=', after.seq)
        .executeTakeFirstOrThrow();
      expect(after.hash).toBe(link.hash);

      const events = await w.db.selectFrom('audit_events').select('seq').where('group_id', '=', g.groupId).execute();
      const linked = await w.db
        .selectFrom('audit_links')
        .select('event_seq')
        .where('group_id', '=', g.groupId)
        .execute();
      expect(linked.map((l) => l.event_seq).sort((a, b) => a - b)).toEqual(
        events.map((e) => e.seq).sort((a, b) => a - b),
      );
      expect((await client(w, auditor.token).get('/api/v1/audit-events/verify')).body).toMatchObject({
        intact: true,
        checked: events.length,
        headSeq: events.length,
      });
    } finally {
      await w.close();
    }
  });
});
