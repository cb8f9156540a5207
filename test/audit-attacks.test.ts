// Attacks on the audit log by someone who can change the database but holds neither this server's
// data directory nor (unless said) the log key: the tampering is SQL written here by hand, and
// both `GET /api/v1/audit-events/verify` and `sigil audit verify` must report it.
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { checkpointBody } from '../src/modules/audit/checkpoint.note.js';
import { openReopenableDatabase } from './support/reopenable-database.js';
import { buildGroup, buildUser, client, createWorld, type GroupFixture, type World } from './support/world.js';

interface Scene {
  world: World;
  group: GroupFixture;
  slug: string;
  auditor: string;
  auditDir: string;
  dataDir: string;
  databaseUrl: string | undefined;
  masterKey: string;
  /** Tree sizes of the two checkpoints signed before the attack. */
  sizes: [number, number];
  dispose(): Promise<void>;
}

let scene: Scene | undefined;
afterEach(async () => {
  await scene?.dispose();
  scene = undefined;
});

/** A group with events and two signed checkpoints, on a database the CLI can open after the server closes. */
async function openScene(): Promise<Scene> {
  const store = await openReopenableDatabase();
  const auditDir = mkdtempSync(join(tmpdir(), 'sigil-audit-attack-'));
  const handle = await store.open();
  const world = await createWorld({ SIGIL_AUDIT_DIR: auditDir }, { database: handle });
  const group = await buildGroup(world);
  const auditor = (
    await buildUser(world, { groupId: group.groupId, companyId: group.hq.id, roles: [{ role: 'security_auditor' }] })
  ).token;
  const api = client(world, group.admin.token);
  const verify = async () => (await client(world, auditor).get('/api/v1/audit-events/verify')).body;
  for (let i = 0; i < 6; i++)
    await api.post('/api/v1/companies', { parentId: group.hq.id, name: `Early ${i}`, code: `E-${i}` });
  const first = await verify();
  for (let i = 0; i < 5; i++)
    await api.post('/api/v1/companies', { parentId: group.hq.id, name: `Late ${i}`, code: `L-${i}` });
  const second = await verify();
  expect(first).toMatchObject({ intact: true });
  expect(second).toMatchObject({ intact: true });
  const slug = (
    await world.db.selectFrom('groups').select('slug').where('id', '=', group.groupId).executeTakeFirstOrThrow()
  ).slug;
  let open = true;
  return {
    world,
    group,
    slug,
    auditor,
    auditDir,
    dataDir: store.dataDir ?? mkdtempSync(join(tmpdir(), 'sigil-audit-cli-')),
    databaseUrl: handle.url,
    masterKey: world.ctx.masterKey.toString('base64'),
    sizes: [first.checkpoint.treeSize, second.checkpoint.treeSize],
    async dispose() {
      if (open) await world.close();
      open = false;
      await store.dispose();
      rmSync(auditDir, { recursive: true, force: true });
    },
    // The CLI opens the database itself: the server goes first (PGlite belongs to one process).
    get closeServer() {
      return async () => {
        if (open) await world.close();
        open = false;
      };
    },
  } as Scene & { closeServer: () => Promise<void> };
}

const apiVerify = async (s: Scene) => (await client(s.world, s.auditor).get('/api/v1/audit-events/verify')).body;

/** `sigil audit verify --group SLUG --json`, in-process, on the scene's database, data and key. */
async function cliVerify(s: Scene): Promise<{ status: number; report: any }> {
  await (s as Scene & { closeServer: () => Promise<void> }).closeServer();
  const saved = { ...process.env };
  process.env.SIGIL_MASTER_KEY = s.masterKey;
  process.env.SIGIL_AUDIT_DIR = s.auditDir;
  if (s.databaseUrl) process.env.DATABASE_URL = s.databaseUrl;
  let out = '';
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  const before = process.exitCode;
  try {
    const status = await main(['node', 'sigil', 'audit', 'verify', '--group', s.slug, '--json', '--data', s.dataDir]);
    return { status, report: out ? JSON.parse(out) : null };
  } finally {
    process.exitCode = before;
    stdout.mockRestore();
    stderr.mockRestore();
    process.env = saved;
  }
}

/** The chain hash at a place (the links of version 3 and 4 events). */
const linkAt = async (s: Scene, place: number) =>
  (
    await sql<{
      hash: string;
      event_seq: number;
    }>`select hash, event_seq from audit_links where group_id = ${s.group.groupId} and seq = ${place}`.execute(
      s.world.db,
    )
  ).rows[0]!;

/** Takes places `from` … off the chain, its tree and its head, and puts their events back to wait for the sealer. */
async function unseal(s: Scene, from: number, options: { keepEvents: boolean }) {
  const g = s.group.groupId;
  const previous = await linkAt(s, from - 1);
  if (options.keepEvents)
    await sql`insert into audit_pending (group_id, seq) select group_id, event_seq from audit_links where group_id = ${g} and seq >= ${from}`.execute(
      s.world.db,
    );
  else
    await sql`delete from audit_events e using audit_links l where l.group_id = ${g} and l.seq >= ${from} and e.group_id = ${g} and e.seq = l.event_seq`.execute(
      s.world.db,
    );
  await sql`delete from audit_links where group_id = ${g} and seq >= ${from}`.execute(s.world.db);
  // The tree is built again over what is left, with the database's own function.
  await sql`update audit_heads set seq = ${from - 1}, hash = ${previous.hash}, tree_edge = sigil_audit_tree_build(${g}, ${from - 1}) where group_id = ${g}`.execute(
    s.world.db,
  );
}

const reseal = (s: Scene) => sql`select sigil_audit_seal(${s.group.groupId}, 100000, true)`.execute(s.world.db);

/** Signs with the deployment's log key, as only someone holding it (or the master key and the database) could. */
async function signWithLogKey(s: Scene, statement: { treeSize: number; rootHash: Buffer }) {
  const row = await s.world.db.selectFrom('audit_log_keys').selectAll().executeTakeFirstOrThrow();
  const signer = await s.world.ctx.keys.open({ store: 'database', sealed: row.sealed_key! }, `audit-log:${row.id}`);
  const signedAt = new Date();
  const body = checkpointBody({ groupId: s.group.groupId, ...statement, signedAt });
  return { ...statement, signedAt, keyId: row.key_id, signature: await signer.sign(Buffer.from(body), 'SHA-256') };
}

/** Puts a checkpoint in the database in place of any of its size. */
async function storeCheckpoint(s: Scene, c: Awaited<ReturnType<typeof signWithLogKey>>) {
  await sql`delete from audit_checkpoints where group_id = ${s.group.groupId} and tree_size = ${c.treeSize}`.execute(
    s.world.db,
  );
  await sql`insert into audit_checkpoints (group_id, tree_size, root_hash, signed_at, key_id, signature)
            values (${s.group.groupId}, ${c.treeSize}, ${c.rootHash}, ${c.signedAt}, ${c.keyId}, ${c.signature})`.execute(
    s.world.db,
  );
}

async function expectBoth(s: Scene, kind: string) {
  const fromApi = await apiVerify(s);
  expect(fromApi, 'API').toMatchObject({ intact: false, firstProblem: { kind } });
  const fromCli = await cliVerify(s);
  expect(fromCli.status, 'CLI exit status').toBe(1);
  expect(fromCli.report, 'CLI').toMatchObject({ intact: false, firstProblem: { kind } });
  return { fromApi, fromCli: fromCli.report };
}

describe('an audit log cut short, rewritten, reordered or forked', () => {
  it('finds the newest events deleted with their links, the tree trimmed and the head moved back: the file remembers the size', async () => {
    const s = (scene = await openScene());
    const [, size] = s.sizes;
    await unseal(s, size - 3, { keepEvents: false });
    // What an operator who read these docs would also do: drop the checkpoints that cover the deleted places.
    await sql`delete from audit_checkpoints where group_id = ${s.group.groupId} and tree_size > ${size - 4}`.execute(
      s.world.db,
    );
    const { fromApi } = await expectBoth(s, 'truncated');
    expect(fromApi).toMatchObject({ headSeq: size - 4, signing: { outcome: 'refused' } });
    expect(fromApi.firstProblem.detail).toContain(`over ${size} places`);
  });

  it('finds the newest events deleted while the checkpoints stay in the database', async () => {
    const s = (scene = await openScene());
    await unseal(s, s.sizes[1] - 1, { keepEvents: false });
    await expectBoth(s, 'truncated');
  });

  it('finds an old event rewritten and the chain and tree after it rebuilt by the sealer, and refuses to sign the result', async () => {
    const s = (scene = await openScene());
    const place = s.sizes[0] - 2;
    const { event_seq } = await linkAt(s, place);
    await sql`update audit_events set changes = jsonb_set(changes, '{name}', '"Crooked Ltd"') where group_id = ${s.group.groupId} and seq = ${event_seq}`.execute(
      s.world.db,
    );
    await unseal(s, place, { keepEvents: true });
    await reseal(s);
    // The chain and the tree hold together again: only the checkpoints know. The server goes on writing.
    await client(s.world, s.group.admin.token).post('/api/v1/companies', {
      parentId: s.group.hq.id,
      name: 'After',
      code: 'AFTER',
    });
    const checkpoints = await s.world.db
      .selectFrom('audit_checkpoints')
      .select('tree_size')
      .where('group_id', '=', s.group.groupId)
      .execute();
    const fromApi = await apiVerify(s);
    expect(fromApi).toMatchObject({
      intact: false,
      firstProblem: { kind: 'rewritten' },
      signing: { outcome: 'refused' },
    });
    expect(
      await s.world.db
        .selectFrom('audit_checkpoints')
        .select('tree_size')
        .where('group_id', '=', s.group.groupId)
        .execute(),
    ).toEqual(checkpoints);
    expect(await cliVerify(s)).toMatchObject({ status: 1, report: { firstProblem: { kind: 'rewritten' } } });
  });

  it('finds two events swapped in the chain, by hand and by the sealer', async () => {
    const s = (scene = await openScene());
    const place = s.sizes[1] - 4;
    const [a, b] = [await linkAt(s, place), await linkAt(s, place + 1)];
    // By hand: the two links trade events.
    await sql`update audit_links set event_seq = -event_seq where group_id = ${s.group.groupId} and seq = ${place}`.execute(
      s.world.db,
    );
    await sql`update audit_links set event_seq = ${a.event_seq} where group_id = ${s.group.groupId} and seq = ${place + 1}`.execute(
      s.world.db,
    );
    await sql`update audit_links set event_seq = ${b.event_seq} where group_id = ${s.group.groupId} and seq = ${place}`.execute(
      s.world.db,
    );
    expect(await apiVerify(s)).toMatchObject({ intact: false, firstProblem: { kind: 'altered', seq: b.event_seq } });
    // By the sealer: the events trade their places in the log and are linked again, in the new order.
    const idAt = async (seq: number) =>
      (
        await s.world.db
          .selectFrom('audit_events')
          .select('id')
          .where('group_id', '=', s.group.groupId)
          .where('seq', '=', seq)
          .executeTakeFirstOrThrow()
      ).id;
    const [idA, idB] = [await idAt(a.event_seq), await idAt(b.event_seq)];
    await unseal(s, place, { keepEvents: true });
    await sql`update audit_events set seq = -seq where group_id = ${s.group.groupId} and seq in (${a.event_seq}, ${b.event_seq})`.execute(
      s.world.db,
    );
    await sql`update audit_events set seq = ${b.event_seq} where group_id = ${s.group.groupId} and seq = ${-a.event_seq}`.execute(
      s.world.db,
    );
    await sql`update audit_events set seq = ${a.event_seq} where group_id = ${s.group.groupId} and seq = ${-b.event_seq}`.execute(
      s.world.db,
    );
    await reseal(s);
    expect(await idAt((await linkAt(s, place)).event_seq)).toBe(idB);
    expect(await idAt((await linkAt(s, place + 1)).event_seq)).toBe(idA);
    await expectBoth(s, 'rewritten');
  });

  it('finds two checkpoints of one size with different roots, signed with the log key', async () => {
    const s = (scene = await openScene());
    const [, size] = s.sizes;
    await storeCheckpoint(s, await signWithLogKey(s, { treeSize: size, rootHash: randomBytes(32) }));
    const { fromApi } = await expectBoth(s, 'forked');
    expect(fromApi.firstProblem.seq).toBe(size);
  });

  it('finds a later checkpoint that does not extend an earlier one: history rewritten and signed again with the key', async () => {
    const s = (scene = await openScene());
    const [early, size] = s.sizes;
    const place = early - 1;
    const { event_seq } = await linkAt(s, place);
    await sql`update audit_events set actor_name = 'Nobody' where group_id = ${s.group.groupId} and seq = ${event_seq}`.execute(
      s.world.db,
    );
    await unseal(s, place, { keepEvents: true });
    await reseal(s);
    // The database now holds only a checkpoint of the rewritten tree, properly signed.
    const { treeRoot } = await import('../src/modules/audit/checkpoint.service.js');
    const root = await treeRoot(s.world.db, s.group.groupId, size);
    await sql`delete from audit_checkpoints where group_id = ${s.group.groupId}`.execute(s.world.db);
    await storeCheckpoint(s, await signWithLogKey(s, { treeSize: size, rootHash: root }));
    const { fromApi } = await expectBoth(s, 'forked');
    expect(fromApi.firstProblem.detail).toContain(`checkpoint ${early}`);
  });

  it("finds a checkpoint of the server's file gone from the database, and one the database holds without a signature", async () => {
    const s = (scene = await openScene());
    const [early, size] = s.sizes;
    await sql`delete from audit_checkpoints where group_id = ${s.group.groupId} and tree_size = ${early}`.execute(
      s.world.db,
    );
    expect(await apiVerify(s)).toMatchObject({
      intact: false,
      firstProblem: { kind: 'checkpoint_missing', seq: early },
    });
    const key = await s.world.db.selectFrom('audit_log_keys').select('key_id').executeTakeFirstOrThrow();
    await sql`insert into audit_checkpoints (group_id, tree_size, root_hash, signed_at, key_id, signature)
              values (${s.group.groupId}, ${size + 50}, ${randomBytes(32)}, now(), ${key.key_id}, ${randomBytes(70)})`.execute(
      s.world.db,
    );
    // Not signed, so not a truncation; and it does not stop the next checkpoint.
    const { fromApi } = await expectBoth(s, 'checkpoint_forged');
    expect(fromApi.firstProblem.seq).toBe(size + 50);
  });
});
