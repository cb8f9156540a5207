// The audit log as an RFC 9162 Merkle tree with signed checkpoints. The proofs the API serves are
// checked by a verifier written here from the RFC's own definitions (§2.1.1, §2.1.3.2, §2.1.4.2),
// the roots against a tree this file computes from the chain's links read by hand, and the
// checkpoints' signatures by openssl.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TreeBuilder, leafHash, nodesWithin } from '../src/modules/audit/merkle.js';
import { requireTool, run, tempDir } from './signing/support.js';
import { buildGroup, buildUser, client, createWorld, type GroupFixture, type World } from './support/world.js';

// ---------------------------------------------------------------- RFC 9162, written out

const H = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();

/** §2.1.1: MTH({}) = SHA-256(); MTH({d0}) = SHA-256(0x00 || d0); MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])), k the largest power of two < n. */
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return H();
  if (leaves.length === 1) return H(Buffer.from([0]), leaves[0]!);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return H(Buffer.from([1]), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

const lsb = (n: number) => n % 2 === 1;
const shift = (n: number) => Math.floor(n / 2);

/** §2.1.3.2, step by step. `hash` is the leaf hash. */
function verifyInclusion(leafIndex: number, treeSize: number, hash: Buffer, path: Buffer[], root: Buffer): boolean {
  if (leafIndex >= treeSize) return false;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r = hash;
  for (const p of path) {
    if (sn === 0) return false;
    if (lsb(fn) || fn === sn) {
      r = H(Buffer.from([1]), p, r);
      if (!lsb(fn))
        while (!lsb(fn) && fn !== 0) {
          fn = shift(fn);
          sn = shift(sn);
        }
    } else {
      r = H(Buffer.from([1]), r, p);
    }
    fn = shift(fn);
    sn = shift(sn);
  }
  return sn === 0 && r.equals(root);
}

/** §2.1.4.2, step by step, for 0 < first < second. */
function verifyConsistency(
  first: number,
  second: number,
  firstHash: Buffer,
  secondHash: Buffer,
  proof: Buffer[],
): boolean {
  if (proof.length === 0) return false;
  const path = Number.isInteger(Math.log2(first)) ? [firstHash, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (lsb(fn)) {
    fn = shift(fn);
    sn = shift(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (lsb(fn) || fn === sn) {
      fr = H(Buffer.from([1]), c, fr);
      sr = H(Buffer.from([1]), c, sr);
      if (!lsb(fn))
        while (!lsb(fn) && fn !== 0) {
          fn = shift(fn);
          sn = shift(sn);
        }
    } else {
      sr = H(Buffer.from([1]), sr, c);
    }
    fn = shift(fn);
    sn = shift(sn);
  }
  return fr.equals(firstHash) && sr.equals(secondHash) && sn === 0;
}

// ---------------------------------------------------------------- the world

let world: World;
let group: GroupFixture;
let auditor: string;
const hex = (value: string) => Buffer.from(value, 'hex');
const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** The chain hashes of the group's places, read from the links by hand: the leaves' data. */
async function leavesOf(groupId: string): Promise<Buffer[]> {
  const { rows } = await sql<{
    hash: string;
  }>`select hash from audit_links where group_id = ${groupId} order by seq`.execute(world.db);
  return rows.map((r) => hex(r.hash));
}

async function addEvents(count: number, prefix: string) {
  const api = client(world, group.admin.token);
  for (let i = 0; i < count; i++)
    expect(
      (await api.post('/api/v1/companies', { parentId: group.hq.id, name: `${prefix} ${i}`, code: `${prefix}-${i}` }))
        .status,
    ).toBe(201);
}

/** Seals and signs a checkpoint of everything so far (as an auditor's verification does). */
async function checkpointNow() {
  const report = await client(world, auditor).get('/api/v1/audit-events/verify');
  expect(report.body).toMatchObject({ intact: true });
  return report.body.checkpoint as { treeSize: number; rootHash: string };
}

beforeAll(async () => {
  world = await createWorld();
  group = await buildGroup(world);
  auditor = (
    await buildUser(world, { groupId: group.groupId, companyId: group.hq.id, roles: [{ role: 'security_auditor' }] })
  ).token;
});
afterAll(() => world.close());

describe('audit tree and checkpoints', () => {
  let firstCheckpoint: { treeSize: number; rootHash: string };
  let secondCheckpoint: { treeSize: number; rootHash: string };

  beforeAll(async () => {
    await addEvents(9, 'T');
    firstCheckpoint = await checkpointNow();
    await addEvents(14, 'U');
    secondCheckpoint = await checkpointNow();
  });

  it('signs checkpoints whose roots are the RFC 9162 tree hash of the chain', async () => {
    const leaves = await leavesOf(group.groupId);
    expect(secondCheckpoint.treeSize).toBe(leaves.length);
    expect(firstCheckpoint.treeSize).toBeLessThan(secondCheckpoint.treeSize);
    expect(firstCheckpoint.rootHash).toBe(mth(leaves.slice(0, firstCheckpoint.treeSize)).toString('hex'));
    expect(secondCheckpoint.rootHash).toBe(mth(leaves).toString('hex'));
    const latest = await client(world).get(`/api/v1/audit/checkpoints/latest?groupId=${group.groupId}`);
    expect(latest.status).toBe(200);
    expect(latest.body).toMatchObject({
      groupId: group.groupId,
      origin: `sigil/audit/${group.groupId}`,
      treeSize: secondCheckpoint.treeSize,
      rootHash: secondCheckpoint.rootHash,
    });
    expect(latest.body.note).toBe(
      `sigil/audit/${group.groupId}\n${secondCheckpoint.treeSize}\n${hex(secondCheckpoint.rootHash).toString('base64')}\ntimestamp ${latest.body.signedAt}\n\n— sigil-audit-log ${Buffer.concat([hex(latest.body.keyId.slice(0, 8)), Buffer.from(latest.body.signature, 'base64')]).toString('base64')}\n`,
    );
  });

  it('serves checkpoints that openssl verifies with the public log key, and refuses one changed by a byte', async () => {
    requireTool('openssl');
    const key = await client(world).get('/api/v1/audit/log-key');
    expect(key.status).toBe(200);
    expect(key.body).toMatchObject({ name: 'sigil-audit-log', algorithm: 'ECDSA-P256-SHA256' });
    const latest = (await client(world).get(`/api/v1/audit/checkpoints/latest?groupId=${group.groupId}`)).body;
    const tmp = tempDir('sigil-checkpoint-');
    try {
      const pem = tmp.file('log.pem', key.body.publicKey);
      // The key id is the SHA-256 of the key's DER, as openssl writes it.
      const der = run('openssl', ['pkey', '-pubin', '-in', pem, '-outform', 'DER']);
      expect(der.status).toBe(0);
      const spki = run('sh', ['-c', `openssl pkey -pubin -in ${pem} -outform DER | openssl dgst -sha256 -r`]).out.split(
        ' ',
      )[0];
      expect(spki).toBe(key.body.keyId);
      const note: string = latest.note;
      const body = tmp.file('body.txt', note.slice(0, note.indexOf('\n\n') + 1));
      const payload = Buffer.from(note.trim().split(' ').at(-1)!, 'base64');
      const signature = tmp.file('sig.der', payload.subarray(4));
      const verified = run('openssl', ['dgst', '-sha256', '-verify', pem, '-signature', signature, body], {
        allowFailure: true,
      });
      expect(verified.out).toContain('Verified OK');
      expect(verified.status).toBe(0);
      const forged = tmp.file(
        'forged.txt',
        readFileSync(body, 'utf8').replace(`\n${latest.treeSize}\n`, `\n${latest.treeSize + 1}\n`),
      );
      const refused = run('openssl', ['dgst', '-sha256', '-verify', pem, '-signature', signature, forged], {
        allowFailure: true,
      });
      expect(refused.status).toBe(1);
      expect(refused.out).toContain('Verification failure');
    } finally {
      tmp.remove();
    }
  });

  it('appends every checkpoint it signs to the group file of its data directory', () => {
    const lines = readFileSync(join(world.auditDir, `${group.groupId}.checkpoints.jsonl`), 'utf8')
      .trim()
      .split('\n');
    const sizes = lines.map((line) => Number((JSON.parse(line) as { note: string }).note.split('\n')[1]));
    expect(sizes).toEqual([firstCheckpoint.treeSize, secondCheckpoint.treeSize]);
  });

  it('proves every event included in both checkpoints by RFC 9162 §2.1.3.2, from what the event says', async () => {
    const links = (
      await sql<{
        place: number;
        event_seq: number;
        hash: string;
      }>`select seq as place, event_seq, hash from audit_links where group_id = ${group.groupId} order by seq`.execute(
        world.db,
      )
    ).rows;
    const api = client(world, auditor);
    for (const checkpoint of [firstCheckpoint, secondCheckpoint]) {
      for (const link of links.filter((l) => l.place <= checkpoint.treeSize)) {
        const proof = await api.get(
          `/api/v1/audit-events/${link.event_seq}/inclusion-proof?treeSize=${checkpoint.treeSize}`,
        );
        expect(proof.status).toBe(200);
        const { body } = proof;
        expect(body).toMatchObject({
          leafIndex: link.place - 1,
          treeSize: checkpoint.treeSize,
          rootHash: checkpoint.rootHash,
          chainVersion: 4,
        });
        // The leaf from the event itself: its link is SHA-256(prev ":" place ":" SHA-256(said)).
        expect(sha256Hex(`${body.prevHash}:${link.place}:${sha256Hex(body.said)}`)).toBe(link.hash);
        const said = JSON.parse(body.said) as unknown[];
        expect(said[0]).toBe(group.groupId);
        expect(said[1]).toBe(body.eventId);
        const leaf = H(Buffer.from([0]), hex(link.hash));
        expect(body.leafHash).toBe(leaf.toString('hex'));
        const path = (body.auditPath as string[]).map(hex);
        expect(verifyInclusion(link.place - 1, checkpoint.treeSize, leaf, path, hex(checkpoint.rootHash))).toBe(true);
        // The same path does not prove a neighbour, nor this leaf under another root.
        const other = (link.place % checkpoint.treeSize) as number;
        if (checkpoint.treeSize > 1)
          expect(verifyInclusion(other, checkpoint.treeSize, leaf, path, hex(checkpoint.rootHash))).toBe(false);
      }
    }
    expect(links.length).toBe(secondCheckpoint.treeSize);
  });

  it('proves every smaller tree a prefix of every larger one by RFC 9162 §2.1.4.2', async () => {
    const leaves = await leavesOf(group.groupId);
    const n = secondCheckpoint.treeSize;
    for (let second = 2; second <= n; second++) {
      for (let first = 1; first < second; first++) {
        const answer = await client(world).get(
          `/api/v1/audit/consistency-proof?groupId=${group.groupId}&first=${first}&second=${second}`,
        );
        expect(answer.status).toBe(200);
        const proof = (answer.body.proof as string[]).map(hex);
        const firstRoot = mth(leaves.slice(0, first));
        const secondRoot = mth(leaves.slice(0, second));
        expect(verifyConsistency(first, second, firstRoot, secondRoot, proof), `${first} → ${second}`).toBe(true);
        // A different first tree is not consistent with the same proof.
        expect(verifyConsistency(first, second, H(firstRoot), secondRoot, proof)).toBe(false);
      }
    }
    const equal = await client(world).get(
      `/api/v1/audit/consistency-proof?groupId=${group.groupId}&first=${n}&second=${n}`,
    );
    expect(equal.body.proof).toEqual([]);
  });

  it('builds the same roots a leaf at a time as RFC 9162 §2.1.1 defines them (the offline check)', () => {
    const leaves = Array.from({ length: 70 }, (_, i) => H(Buffer.from(`leaf ${i}`)));
    const builder = new TreeBuilder();
    expect(builder.root().equals(mth([]))).toBe(true);
    leaves.forEach((leaf, i) => {
      builder.push(leafHash(leaf));
      expect(builder.root().equals(mth(leaves.slice(0, i + 1))), `size ${i + 1}`).toBe(true);
    });
  });

  it('hashes the nodes within a tile, full or not, as RFC 9162 §2.1.1 defines the subtrees they stand for', () => {
    const leaves = Array.from({ length: 16 * 16 + 5 * 16 + 7 }, (_, i) => H(Buffer.from(`leaf ${i}`)));
    const perfect = (level: number, idx: number) => mth(leaves.slice(idx * 2 ** level, (idx + 1) * 2 ** level));
    // A tile of level k holds the nodes of tree level 4k: 16 of them when full.
    const tile = (tileLevel: number, idx: number) => {
      const level = 4 * tileLevel;
      const held: Buffer[] = [];
      for (let i = idx * 16; i < idx * 16 + 16 && (i + 1) * 2 ** level <= leaves.length; i++)
        held.push(perfect(level, i));
      return Buffer.concat(held);
    };
    const cases = [
      { tileLevel: 0, idx: 0, count: 8 + 4 + 2 + 1 }, // full
      { tileLevel: 0, idx: 21, count: 3 + 1 }, // the last 7 leaves
      { tileLevel: 1, idx: 0, count: 8 + 4 + 2 + 1 }, // the first 16 of the 21 nodes of level 4
      { tileLevel: 1, idx: 1, count: 2 + 1 }, // the other 5
    ];
    for (const { tileLevel, idx, count } of cases) {
      const nodes = nodesWithin({ tileLevel, idx }, tile(tileLevel, idx));
      expect(nodes.length, `tile ${tileLevel}:${idx}`).toBe(count);
      for (const { ref, hash } of nodes)
        expect(hash.equals(perfect(ref.level, ref.idx)), `node ${ref.level}:${ref.idx}`).toBe(true);
    }
  });

  it('finds a leaf or a node of the stored tiles changed by a byte, or a tile gone, and says where', async () => {
    const tile = async (tileLevel: number, idx: number) =>
      (
        await sql<{
          hashes: Uint8Array;
        }>`select hashes from audit_tree_tiles where group_id = ${group.groupId} and tile_level = ${tileLevel} and idx = ${idx}`.execute(
          world.db,
        )
      ).rows[0]!.hashes;
    const put = (tileLevel: number, idx: number, hashes: Uint8Array) =>
      sql`update audit_tree_tiles set hashes = ${Buffer.from(hashes)} where group_id = ${group.groupId} and tile_level = ${tileLevel} and idx = ${idx}`.execute(
        world.db,
      );
    const verify = async () => (await client(world, auditor).get('/api/v1/audit-events/verify')).body;
    const leaves = await leavesOf(group.groupId);
    expect(leaves.length).toBeGreaterThanOrEqual(20);
    // Leaf 19 is the fourth hash of tile (0, 1): what the test computes from the chain by RFC 9162.
    const original = Buffer.from(await tile(0, 1));
    expect(original.subarray(3 * 32, 4 * 32)).toEqual(H(Buffer.from([0]), leaves[19]!));
    const changed = Buffer.from(original);
    changed[3 * 32 + 7]! ^= 1;
    await put(0, 1, changed);
    expect(await verify()).toMatchObject({
      intact: false,
      firstProblem: { kind: 'tree_altered', detail: 'leaf 19 of the tree is not the hash of place 20' },
    });
    await put(0, 1, original);

    // The first hash of tile (1, 0) is the root of tile (0, 0): node (4, 0).
    const upper = Buffer.from(await tile(1, 0));
    expect(upper.subarray(0, 32)).toEqual(mth(leaves.slice(0, 16)));
    const forged = Buffer.from(upper);
    forged[5]! ^= 1;
    await put(1, 0, forged);
    expect(await verify()).toMatchObject({
      intact: false,
      firstProblem: { kind: 'tree_altered', detail: 'tile (0, 0) of the tree does not match its node in tile (1, 0)' },
    });
    await put(1, 0, upper);

    await sql`delete from audit_tree_tiles where group_id = ${group.groupId} and tile_level = 0 and idx = 1`.execute(
      world.db,
    );
    expect(await verify()).toMatchObject({
      intact: false,
      firstProblem: { kind: 'tree_altered', detail: 'leaf 16 of the tree is not the hash of place 17' },
    });
    await sql`insert into audit_tree_tiles (group_id, tile_level, idx, hashes) values (${group.groupId}, 0, 1, ${original})`.execute(
      world.db,
    );
    // A tile beyond the tree: the shape no longer fits its size.
    await sql`insert into audit_tree_tiles (group_id, tile_level, idx, hashes) values (${group.groupId}, 0, 50, ${original})`.execute(
      world.db,
    );
    const beyond = await verify();
    expect(beyond).toMatchObject({ intact: false, firstProblem: { kind: 'tree_altered' } });
    expect(beyond.firstProblem.detail).toMatch(
      /^tile level 0 of the tree holds 3 tiles of \d+ nodes; a tree of \d+ leaves has 2 of/,
    );
    await sql`delete from audit_tree_tiles where group_id = ${group.groupId} and tile_level = 0 and idx = 50`.execute(
      world.db,
    );
    expect(await verify()).toMatchObject({ intact: true });
  });

  it('answers the public routes without an account, and names each bad field', async () => {
    const anyone = client(world);
    expect((await anyone.get('/api/v1/audit/checkpoints/latest?groupId=nope')).body).toMatchObject({
      status: 400,
      errors: [{ field: 'querystring.groupId' }],
    });
    expect(
      (await anyone.get(`/api/v1/audit/checkpoints/latest?groupId=${'0'.repeat(8)}-0000-7000-8000-000000000000`)).body,
    ).toMatchObject({
      status: 404,
      code: 'audit_checkpoint_not_found',
    });
    const n = secondCheckpoint.treeSize;
    const bad = async (query: string) =>
      (await anyone.get(`/api/v1/audit/consistency-proof?groupId=${group.groupId}&${query}`)).body;
    expect(await bad(`first=1&second=${n + 1}`)).toMatchObject({
      status: 400,
      errors: [{ field: 'querystring.second' }],
    });
    expect(await bad(`first=3&second=2`)).toMatchObject({ status: 400, errors: [{ field: 'querystring.first' }] });
    expect(await bad(`first=0&second=2`)).toMatchObject({ status: 400, errors: [{ field: 'querystring.first' }] });
    expect(await bad(`first=x&second=2`)).toMatchObject({ status: 400, errors: [{ field: 'querystring.first' }] });
  });

  it('gives inclusion proofs to auditors only, for events they may see, within a signed tree', async () => {
    const seq = Number(
      (
        await sql<{
          event_seq: number;
        }>`select event_seq from audit_links where group_id = ${group.groupId} order by seq desc limit 1`.execute(
          world.db,
        )
      ).rows[0]!.event_seq,
    );
    const url = `/api/v1/audit-events/${seq}/inclusion-proof`;
    expect((await client(world).get(url)).status).toBe(401);
    expect((await client(world, auditor).get(`${url}?treeSize=many`)).body).toMatchObject({
      status: 400,
      errors: [{ field: 'querystring.treeSize' }],
    });
    expect((await client(world, auditor).get(`${url}?treeSize=${secondCheckpoint.treeSize + 1}`)).body).toMatchObject({
      status: 400,
      errors: [{ field: 'querystring.treeSize' }],
    });
    expect((await client(world, auditor).get(`${url}?treeSize=${firstCheckpoint.treeSize}`)).body).toMatchObject({
      status: 409,
      code: 'audit_event_not_covered',
    });
    expect((await client(world, group.admin.token).get(url)).status).toBe(403);
    const other = await buildGroup(world);
    const otherAuditor = await buildUser(world, {
      groupId: other.groupId,
      companyId: other.hq.id,
      roles: [{ role: 'security_auditor' }],
    });
    expect((await client(world, otherAuditor.token).get(url)).body).toMatchObject({
      status: 404,
      code: 'audit_event_not_found',
    });
    expect((await client(world, auditor).get(url)).body).toMatchObject({ treeSize: secondCheckpoint.treeSize });
  });
});

describe("checkpoints at intervals, and each server's file", () => {
  const logger = () => {
    const errors: Array<{ details: object; message: string }> = [];
    return {
      errors,
      warn: () => undefined,
      error: (details: object, message: string) => errors.push({ details, message }),
    };
  };
  const lines = (dir: string, groupId: string) => {
    try {
      return readFileSync(join(dir, `${groupId}.checkpoints.jsonl`), 'utf8')
        .trim()
        .split('\n')
        .map((line) => Number((JSON.parse(line) as { note: string }).note.split('\n')[1]));
    } catch {
      return [];
    }
  };

  it('signs when the tree grew and the newest checkpoint is old enough; another server records it after checking it', async () => {
    const w = await createWorld({ SIGIL_AUDIT_CHECKPOINT_SECONDS: '60' });
    const otherDir = mkdtempSync(join(tmpdir(), 'sigil-audit-other-'));
    try {
      const g = await buildGroup(w);
      const { checkpointRound, witnessCheckpoints } = await import('../src/modules/audit/checkpoint.service.js');
      const { sealAllPending } = await import('../src/modules/audit/audit.sealer.js');
      const sizes = async () =>
        (
          await w.db
            .selectFrom('audit_checkpoints')
            .select('tree_size')
            .where('group_id', '=', g.groupId)
            .orderBy('tree_size')
            .execute()
        ).map((r) => Number(r.tree_size));
      const round = async () => {
        const log = logger();
        await sealAllPending(w.db, { wait: true });
        await checkpointRound(w.ctx, log);
        return log.errors;
      };
      const api = client(w, g.admin.token);
      await api.post('/api/v1/companies', { parentId: g.hq.id, name: 'One', code: 'ONE' });
      expect(await round()).toEqual([]);
      const [first] = await sizes();
      expect(first).toBeGreaterThan(0);
      await api.post('/api/v1/companies', { parentId: g.hq.id, name: 'Two', code: 'TWO' });
      expect(await round()).toEqual([]);
      expect(await sizes()).toEqual([first]);
      w.clock.advance(61_000);
      expect(await round()).toEqual([]);
      const both = await sizes();
      expect(both).toHaveLength(2);
      expect(lines(w.auditDir, g.groupId)).toEqual(both);

      // A second server on the same database, with a data directory of its own: it takes the newest checkpoint.
      const other = { ...w.ctx, config: { ...w.ctx.config, audit: { ...w.ctx.config.audit, dir: otherDir } } };
      expect(await witnessCheckpoints(other)).toEqual([{ groupId: g.groupId, kind: 'appended', treeSize: both[1] }]);
      expect(lines(otherDir, g.groupId)).toEqual([both[1]]);
      expect(await witnessCheckpoints(other)).toEqual([]);

      // History rewritten under both servers: neither signs nor records anything more, and both say so.
      const place = both[0]! - 1;
      const { event_seq } = (
        await sql<{
          event_seq: number;
        }>`select event_seq from audit_links where group_id = ${g.groupId} and seq = ${place}`.execute(w.db)
      ).rows[0]!;
      await sql`update audit_events set actor_name = 'Nobody' where group_id = ${g.groupId} and seq = ${event_seq}`.execute(
        w.db,
      );
      const before = (
        await sql<{
          hash: string;
        }>`select hash from audit_links where group_id = ${g.groupId} and seq = ${place - 1}`.execute(w.db)
      ).rows[0]!;
      await sql`insert into audit_pending (group_id, seq) select group_id, event_seq from audit_links where group_id = ${g.groupId} and seq >= ${place}`.execute(
        w.db,
      );
      await sql`delete from audit_links where group_id = ${g.groupId} and seq >= ${place}`.execute(w.db);
      // The tree is built again over what is left, with the database's own function.
      await sql`update audit_heads set seq = ${place - 1}, hash = ${before.hash}, tree_edge = sigil_audit_tree_build(${g.groupId}, ${place - 1}) where group_id = ${g.groupId}`.execute(
        w.db,
      );
      await api.post('/api/v1/companies', { parentId: g.hq.id, name: 'Three', code: 'THREE' });
      w.clock.advance(61_000);
      const errors = await round();
      expect(errors.map((e) => e.message)).toEqual(['audit: refused to sign a checkpoint; run sigil audit verify']);
      expect(await sizes()).toEqual(both);
      expect(lines(w.auditDir, g.groupId)).toEqual(both);
    } finally {
      await w.close();
      rmSync(otherDir, { recursive: true, force: true });
    }
  });

  it('signs on its own while the server runs (the sealer), and once more as it stops', async () => {
    const w = await createWorld({ SIGIL_AUDIT_CHECKPOINT_SECONDS: '1' });
    try {
      const g = await buildGroup(w);
      const { AuditSealer } = await import('../src/modules/audit/audit.sealer.js');
      const sealer = new AuditSealer(w.db, { warn: () => undefined }, 5, w.ctx);
      sealer.start();
      try {
        await client(w, g.admin.token).post('/api/v1/companies', { parentId: g.hq.id, name: 'Auto', code: 'AUTO' });
        for (let i = 0; i < 1000 && lines(w.auditDir, g.groupId).length === 0; i++) await sleep(10);
        expect(lines(w.auditDir, g.groupId)).toHaveLength(1);
      } finally {
        await sealer.stop();
      }
      await client(w, g.admin.token).post('/api/v1/companies', { parentId: g.hq.id, name: 'Last', code: 'LAST' });
      await sealer.sealAll({ final: true });
      const head = await w.db
        .selectFrom('audit_heads')
        .select('seq')
        .where('group_id', '=', g.groupId)
        .executeTakeFirstOrThrow();
      expect(lines(w.auditDir, g.groupId).at(-1)).toBe(Number(head.seq));
    } finally {
      await w.close();
    }
  });

  it('goes down to the chain before the tree and up again: the events, the tree and the kept checkpoints agree', async () => {
    const w = await createWorld();
    try {
      const g = await buildGroup(w);
      const a = await buildUser(w, { groupId: g.groupId, companyId: g.hq.id, roles: [{ role: 'security_auditor' }] });
      await client(w, g.admin.token).post('/api/v1/companies', { parentId: g.hq.id, name: 'Before', code: 'BEFORE' });
      const before = (await client(w, a.token).get('/api/v1/audit-events/verify')).body;
      expect(before).toMatchObject({ intact: true });
      const { migrateDown, migrateToLatest } = await import('../src/db/migrate.js');
      // Down through every later migration to the one before the tree, then up again.
      const reverted: string[] = [];
      while (!reverted.includes('20261206T1000-audit-merkle')) {
        const step = await migrateDown(w.db);
        expect(step).toHaveLength(1);
        reverted.push(...step);
      }
      expect(await migrateToLatest(w.db)).toEqual([...reverted].reverse());
      const after = (await client(w, a.token).get('/api/v1/audit-events/verify')).body;
      expect(after).toMatchObject({
        intact: true,
        headSeq: before.headSeq,
        checkpoint: { rootHash: before.checkpoint.rootHash },
      });
      expect(
        await w.db
          .selectFrom('audit_events')
          .select('seq')
          .where('group_id', '=', g.groupId)
          .where('chain_version', '<>', 4)
          .execute(),
      ).toEqual([]);
    } finally {
      await w.close();
    }
  });
});
