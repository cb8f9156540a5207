import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { openDatabase } from '../src/db/database.js';
import { enqueueJob } from '../src/jobs/job.queue.js';
import { claimDueJobs, findJob, findJobs } from '../src/jobs/job.repository.js';
import { backoffDelay, JobRunner, wakeJobRunners } from '../src/jobs/job.runner.js';
import { PermanentJobError, type JobHandler } from '../src/jobs/job.types.js';
import { createJobRunner } from '../src/server/jobs.js';
import { openReopenableDatabase } from './support/reopenable-database.js';
import { buildGroup, createWorld, type GroupFixture, type World } from './support/world.js';

declare module '../src/jobs/job.types.js' {
  interface JobPayloads {
    'test.count': { n: number };
    'test.flaky': { n: number };
    'test.hang': { n: number };
  }
}

const countPayload = z.object({ n: z.number() });

/** A handler that counts how often each job ran. */
function counter(
  kind: 'test.count' | 'test.flaky' | 'test.hang' = 'test.count',
  run: (n: number) => Promise<void> = async () => {},
) {
  const runs = new Map<string, number>();
  const handler: JobHandler<typeof kind> = {
    kind,
    payload: countPayload,
    async run(payload, job) {
      runs.set(job.id, (runs.get(job.id) ?? 0) + 1);
      await run(payload.n);
      return { n: payload.n };
    },
  };
  return { handler, runs };
}

/** A clock that moves only when told (the world's test clock also moves with real time). */
function frozenClock() {
  let at = Date.now();
  return { now: () => new Date(at), advance: (ms: number) => void (at += ms) };
}

function runnerFor(
  world: World,
  handlers: JobHandler[],
  options: { leaseMs?: number; batchSize?: number; now?: () => Date } = {},
) {
  return new JobRunner({
    db: world.db,
    now: options.now ?? world.clock.now,
    handlers,
    pollMs: 20,
    batchSize: options.batchSize ?? 10,
    leaseMs: options.leaseMs ?? 120_000,
  });
}

let world: World;
let group: GroupFixture;
beforeAll(async () => {
  world = await createWorld();
  group = await buildGroup(world);
});
afterAll(() => world.close());

describe('job queue', () => {
  it('leaves no job behind when the enqueueing transaction rolls back, and keeps one when it commits', async () => {
    const before = (await findJobs(world.db, { kind: 'test.count' })).length;
    await expect(
      world.db.transaction().execute(async (trx) => {
        await enqueueJob(trx, { kind: 'test.count', groupId: group.groupId, payload: { n: 1 } });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await findJobs(world.db, { kind: 'test.count' })).toHaveLength(before);

    const { id } = await world.db
      .transaction()
      .execute((trx) => enqueueJob(trx, { kind: 'test.count', groupId: group.groupId, payload: { n: 2 } }));
    const { handler, runs } = counter();
    const outcomes = await runnerFor(world, [handler]).runDueJobs(10);
    expect(outcomes).toEqual([{ id, kind: 'test.count', status: 'done', result: { n: 2 } }]);
    expect(runs.get(id)).toBe(1);
    expect(await findJob(world.db, id)).toMatchObject({
      status: 'done',
      attempts: 1,
      result: { n: 2 },
      lastError: null,
    });
  });

  it('adds a job with a dedupe key once per group', async () => {
    const enqueue = (groupId: string | null) =>
      world.db.transaction().execute((trx) =>
        enqueueJob(trx, {
          kind: 'test.count',
          groupId,
          payload: { n: 3 },
          dedupeKey: 'remind:task-1:1',
          runAt: new Date(Date.now() + 86_400_000),
        }),
      );
    const first = await enqueue(group.groupId);
    const again = await enqueue(group.groupId);
    expect(first.created).toBe(true);
    expect(again).toEqual({ id: first.id, created: false });
    const other = await buildGroup(world);
    expect((await enqueue(other.groupId)).created).toBe(true);
    const system = await enqueue(null);
    expect(system.created).toBe(true);
    expect(await enqueue(null)).toEqual({ id: system.id, created: false });
  });

  it('retries a failing job with exponential backoff, then marks it dead after its last attempt', async () => {
    const failures: Array<{ dead: boolean; error: string }> = [];
    const handler: JobHandler<'test.flaky'> = {
      kind: 'test.flaky',
      payload: countPayload,
      backoff: { baseMs: 1000, maxMs: 10_000 },
      async run() {
        throw new Error('the provider is down');
      },
      async onFailure(_payload, _job, failure) {
        failures.push({ dead: failure.dead, error: failure.error });
      },
    };
    const clock = frozenClock();
    const runner = runnerFor(world, [handler], { now: clock.now });
    const { id } = await world.db.transaction().execute((trx) =>
      enqueueJob(trx, {
        kind: 'test.flaky',
        groupId: group.groupId,
        payload: { n: 1 },
        maxAttempts: 3,
        runAt: clock.now(),
      }),
    );

    const [first] = await runner.runDueJobs();
    expect(first).toMatchObject({ id, status: 'failed', error: 'the provider is down' });
    expect(await findJob(world.db, id)).toMatchObject({
      status: 'failed',
      attempts: 1,
      lastError: 'the provider is down',
      lockedUntil: null,
    });
    expect(await runner.runDueJobs()).toEqual([]);
    clock.advance(999);
    expect(await runner.runDueJobs()).toEqual([]);
    clock.advance(1);
    expect((await runner.runDueJobs())[0]).toMatchObject({ id, status: 'failed' });
    // The second failure waits twice as long.
    clock.advance(1999);
    expect(await runner.runDueJobs()).toEqual([]);
    clock.advance(1);
    expect((await runner.runDueJobs())[0]).toMatchObject({ id, status: 'dead', error: 'the provider is down' });
    clock.advance(60 * 60_000);
    expect(await runner.runDueJobs()).toEqual([]);
    expect(await findJob(world.db, id)).toMatchObject({
      status: 'dead',
      attempts: 3,
      lastError: 'the provider is down',
    });
    expect(failures.map((f) => f.dead)).toEqual([false, false, true]);
    expect([1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay({ baseMs: 1000, maxMs: 10_000 }, attempt))).toEqual([
      1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
  });

  it('kills a job at once when retrying cannot help: a permanent error, or a payload that does not match its kind', async () => {
    const handler: JobHandler<'test.flaky'> = {
      kind: 'test.flaky',
      payload: countPayload,
      async run() {
        throw new PermanentJobError('the address does not exist');
      },
    };
    const runner = runnerFor(world, [handler]);
    const permanent = await world.db
      .transaction()
      .execute((trx) =>
        enqueueJob(trx, { kind: 'test.flaky', groupId: group.groupId, payload: { n: 1 }, runAt: world.clock.now() }),
      );
    const malformed = await world.db.transaction().execute((trx) =>
      enqueueJob(trx, {
        kind: 'test.flaky',
        groupId: group.groupId,
        payload: { n: 'two' } as unknown as { n: number },
        runAt: world.clock.now(),
      }),
    );
    const outcomes = await runner.runDueJobs();
    expect(outcomes.find((o) => o.id === permanent.id)).toMatchObject({
      status: 'dead',
      error: 'the address does not exist',
    });
    expect(outcomes.find((o) => o.id === malformed.id)).toMatchObject({
      status: 'dead',
      error: 'the payload does not match test.flaky: n: Invalid input: expected number, received string',
    });
  });

  it('abandons an attempt that outlives its timeout and retries it later', async () => {
    const handler: JobHandler<'test.hang'> = {
      kind: 'test.hang',
      payload: countPayload,
      timeoutMs: 50,
      run: () => new Promise(() => {}),
    };
    const runner = runnerFor(world, [handler]);
    const { id } = await world.db
      .transaction()
      .execute((trx) =>
        enqueueJob(trx, { kind: 'test.hang', groupId: group.groupId, payload: { n: 1 }, runAt: world.clock.now() }),
      );
    const [outcome] = await runner.runDueJobs();
    expect(outcome).toMatchObject({ id, status: 'failed', error: 'timed out after 50 ms' });
  });

  it('takes over a job whose process died holding it, once its lease has run out', async () => {
    const { id } = await world.db
      .transaction()
      .execute((trx) =>
        enqueueJob(trx, { kind: 'test.count', groupId: group.groupId, payload: { n: 7 }, runAt: world.clock.now() }),
      );
    // A process claims the job, then dies before finishing it.
    const now = world.clock.now();
    const claimed = await claimDueJobs(world.db, {
      kinds: ['test.count'],
      now,
      leaseUntil: new Date(now.getTime() + 60_000),
      token: 'dead-process',
      limit: 10,
    });
    expect(claimed.map((j) => j.id)).toContain(id);
    const { handler, runs } = counter();
    const runner = runnerFor(world, [handler]);
    expect(await runner.runDueJobs()).toEqual([]);
    world.clock.advance(60_001);
    expect(await runner.runDueJobs()).toEqual([{ id, kind: 'test.count', status: 'done', result: { n: 7 } }]);
    expect(runs.get(id)).toBe(1);
    expect(await findJob(world.db, id)).toMatchObject({ status: 'done', attempts: 2 });
  });

  it('polls by itself once started, and stops cleanly', async () => {
    const { handler, runs } = counter();
    const runner = runnerFor(world, [handler]);
    runner.start();
    const { id } = await world.db
      .transaction()
      .execute((trx) =>
        enqueueJob(trx, { kind: 'test.count', groupId: group.groupId, payload: { n: 8 }, runAt: world.clock.now() }),
      );
    for (let i = 0; i < 100 && !runs.has(id); i++) await sleep(20);
    await runner.stop();
    expect(runs.get(id)).toBe(1);
    expect((await findJob(world.db, id))?.status).toBe('done');
  });

  it('runs a job at once when woken, not at its next poll a minute away; a stopped runner stays asleep', async () => {
    const { handler, runs } = counter();
    const runner = new JobRunner({
      db: world.db,
      now: world.clock.now,
      handlers: [handler],
      pollMs: 60_000,
      batchSize: 10,
      leaseMs: 120_000,
    });
    runner.start();
    // The first poll (at start) finds nothing; the next would come in a minute.
    await sleep(200);
    const enqueue = (n: number) =>
      world.db
        .transaction()
        .execute((trx) =>
          enqueueJob(trx, { kind: 'test.count', groupId: group.groupId, payload: { n }, runAt: world.clock.now() }),
        );
    const { id } = await enqueue(9);
    await sleep(100);
    expect(runs.has(id)).toBe(false);
    wakeJobRunners();
    for (let i = 0; i < 100 && !runs.has(id); i++) await sleep(20);
    expect(runs.get(id)).toBe(1);
    await runner.stop();
    const later = await enqueue(10);
    wakeJobRunners();
    await sleep(300);
    expect(runs.has(later.id)).toBe(false);
    expect((await findJob(world.db, later.id))?.status).toBe('queued');
    await world.db.deleteFrom('jobs').where('id', '=', later.id).execute();
  });

  it('refuses a handler whose timeout could outlive its lease', () => {
    const handler: JobHandler<'test.hang'> = {
      kind: 'test.hang',
      payload: countPayload,
      timeoutMs: 60_000,
      run: async () => {},
    };
    expect(() => runnerFor(world, [handler], { leaseMs: 30_000 })).toThrow('must be shorter than the lease');
  });
});

describe('jobs across restarts', () => {
  it('runs a job due in the future exactly once after the process restarts', async () => {
    const store = await openReopenableDatabase();
    try {
      const before = await createWorld({}, { database: await store.open() });
      const beforeGroup = await buildGroup(before);
      const { handler: handlerBefore, runs: runsBefore } = counter();
      const due = new Date(before.clock.now().getTime() + 60 * 60_000);
      const { id } = await before.db
        .transaction()
        .execute((trx) =>
          enqueueJob(trx, { kind: 'test.count', groupId: beforeGroup.groupId, payload: { n: 42 }, runAt: due }),
        );
      expect(await createJobRunner(before.ctx, { extraHandlers: [handlerBefore] }).runDueJobs()).toEqual([]);
      await before.close();
      expect(runsBefore.size).toBe(0);

      const after = await createWorld({}, { database: await store.open() });
      try {
        const { handler, runs } = counter();
        const runner = createJobRunner(after.ctx, { extraHandlers: [handler] });
        expect(await runner.runDueJobs()).toEqual([]);
        after.clock.advance(60 * 60_000 + 1000);
        expect(await runner.runDueJobs()).toEqual([{ id, kind: 'test.count', status: 'done', result: { n: 42 } }]);
        expect(await runner.runDueJobs()).toEqual([]);
        after.clock.advance(24 * 60 * 60_000);
        expect(await runner.runDueJobs()).toEqual([]);
        expect([...runs.entries()]).toEqual([[id, 1]]);
      } finally {
        await after.close();
      }
    } finally {
      await store.dispose();
    }
  });

  it.runIf(Boolean(process.env.DATABASE_URL))(
    'never runs a job twice when two runners on PostgreSQL claim at the same time',
    async () => {
      const second = await openDatabase({ databaseUrl: world.databaseUrl!, poolSize: 5 });
      try {
        const ids = await world.db.transaction().execute(async (trx) => {
          const out: string[] = [];
          for (let n = 0; n < 120; n++)
            out.push(
              (
                await enqueueJob(trx, {
                  kind: 'test.count',
                  groupId: group.groupId,
                  payload: { n },
                  runAt: world.clock.now(),
                })
              ).id,
            );
          return out;
        });
        const all = counter('test.count', () => sleep(2));
        const byRunner = [0, 0];
        const runners = [
          runnerFor(world, [all.handler], { batchSize: 7 }),
          new JobRunner({
            db: second.db,
            now: world.clock.now,
            handlers: [all.handler],
            pollMs: 20,
            batchSize: 7,
            leaseMs: 120_000,
          }),
        ];
        const drain = async (index: number) => {
          for (let round = 0; round < 200; round++) {
            const outcomes = await runners[index]!.runDueJobs();
            byRunner[index]! += outcomes.length;
            if (outcomes.length === 0 && ids.every((id) => all.runs.has(id))) return;
          }
        };
        await Promise.all([drain(0), drain(1)]);
        expect(ids.filter((id) => all.runs.get(id) !== 1)).toEqual([]);
        expect(byRunner[0]! + byRunner[1]!).toBe(ids.length);
        expect(byRunner[0]).toBeGreaterThan(0);
        expect(byRunner[1]).toBeGreaterThan(0);
      } finally {
        await second.close();
      }
    },
  );
});
