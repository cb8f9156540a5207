// The outbox: an entry written in a transaction reaches the consumers only once that transaction
// commits, never when it rolls back, once each and in order; a reader wakes on the commit's own
// notification (PostgreSQL, and PGlite inside the process); ids committed out of order are not
// lost; and a principal changed in a transaction is dropped from the cache after the commit.
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listenForChanges } from '../src/db/changes-listener.js';
import type { DatabaseHandle } from '../src/db/database.js';
import { appendOutbox, OUTBOX_CHANNEL, OutboxReader, type OutboxEntry } from '../src/outbox/outbox.js';
import { PrincipalCache, type Principal } from '../src/modules/access/index.js';
import { recordAudit } from '../src/modules/audit/index.js';
import { openTestDatabase } from './support/database.js';

const GROUP = '0193a000-0000-7000-8000-0000000b0001';

let database: DatabaseHandle & { url?: string };
let reader: OutboxReader | undefined;
const seen: OutboxEntry[] = [];

beforeEach(async () => {
  database = await openTestDatabase();
  seen.length = 0;
  await sql`insert into groups (id, name, slug, sod_matrix) values (${GROUP}, 'Outbox', 'outbox', '[]')`.execute(
    database.db,
  );
});
afterEach(async () => {
  await reader?.stop();
  reader = undefined;
  await database.close();
});

/** A reader that never polls on its own: the test wakes it, or the commit's notification does. */
async function startReader(): Promise<OutboxReader> {
  reader = new OutboxReader(
    database.db,
    { 'principals.changed': (entries) => void seen.push(...entries) },
    {
      pollMs: 3_600_000,
    },
  );
  await reader.start();
  return reader;
}

const append = (n: number) =>
  database.db
    .transaction()
    .execute((trx) => appendOutbox(trx, { groupId: GROUP, topic: 'principals.changed', payload: { n } }));

/** Waits (bounded) until `done` holds. */
async function until(done: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the outbox', () => {
  it('delivers what committed, once each and in order, nothing rolled back and nothing from before the reader', async () => {
    await append(0);
    const r = await startReader();
    await append(1);
    await database.db
      .transaction()
      .execute(async (trx) => {
        await appendOutbox(trx, { groupId: GROUP, topic: 'principals.changed', payload: { n: 'rolled back' } });
        throw new Error('undo');
      })
      .catch(() => undefined);
    await append(2);
    await r.wake();
    await r.wake();
    expect(seen.map((e) => e.payload)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(seen.every((e) => e.groupId === GROUP && e.topic === 'principals.changed')).toBe(true);
  });

  it('wakes on the notification its commit delivers, and not before the commit', async () => {
    const r = await startReader();
    const wake = () => void r.wake();
    const listener = database.url
      ? listenForChanges({
          databaseUrl: database.url,
          channel: OUTBOX_CHANNEL,
          onChange: wake,
          onError: () => undefined,
        })
      : { close: (await database.pglite!.listen(OUTBOX_CHANNEL, wake)) as () => Promise<void> };
    try {
      // The PostgreSQL listener calls once as it connects; wait for that before counting.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await database.db.transaction().execute(async (trx) => {
        await appendOutbox(trx, { groupId: GROUP, topic: 'principals.changed', payload: { n: 'late' } });
        await new Promise((resolve) => setTimeout(resolve, 200));
        // Still uncommitted: nothing may have been delivered.
        expect(seen).toEqual([]);
      });
      await until(() => seen.length === 1);
      expect(seen[0]!.payload).toEqual({ n: 'late' });
    } finally {
      await listener.close();
    }
  });

  it.runIf(process.env.DATABASE_URL)(
    'delivers an id that committed after a later one (PostgreSQL: ids are taken in one order, committed in another)',
    async () => {
      const r = await startReader();
      let releaseFirst!: () => void;
      const held = new Promise<void>((resolve) => (releaseFirst = resolve));
      const first = database.db.transaction().execute(async (trx) => {
        await appendOutbox(trx, {
          groupId: GROUP,
          topic: 'principals.changed',
          payload: { n: 'first, committed last' },
        });
        await held;
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      await append(2);
      await r.wake();
      expect(seen.map((e) => e.payload)).toEqual([{ n: 2 }]);
      releaseFirst();
      await first;
      await r.wake();
      expect(seen.map((e) => e.payload)).toEqual([{ n: 2 }, { n: 'first, committed last' }]);
    },
  );

  it('drops a principal read while its change was not yet committed, once the outbox says it committed', async () => {
    const { invalidatePrincipals } = await import('../src/modules/access/index.js');
    const r = new OutboxReader(
      database.db,
      { 'principals.changed': () => invalidatePrincipals() },
      { pollMs: 3_600_000 },
    );
    reader = r;
    await r.start();
    const cache = new PrincipalCache({ ttlMs: 60_000, maxEntries: 10 });
    const before = { principal: { id: 'u' } as unknown as Principal, mfaPending: false, passwordChangeRequired: false };
    const now = new Date();
    await database.db.transaction().execute(async (trx) => {
      await recordAudit(trx, {
        groupId: GROUP,
        actor: { system: 'test' },
        event: {
          action: 'role.revoked',
          target: { type: 'user', id: '0193a000-0000-7000-8000-0000000b0003' },
          companyId: null,
          changes: {
            assignmentId: '0193a000-0000-7000-8000-0000000b0002',
            role: 'seal_admin',
            companyId: '0193a000-0000-7000-8000-0000000b0004',
          },
        },
      });
      // A request reads the principal now, from before the commit (another connection sees the
      // role still held), under the epoch the recording already moved, and caches it.
      cache.set('token', before, { readUnderEpoch: cache.currentEpoch(), now, expiresAt: null });
      expect(cache.get('token', now)).toBe(before);
    });
    await r.wake();
    expect(cache.get('token', now), 'the principal from before the commit').toBeUndefined();
  });
});
