// An exported audit log checked offline by the built command, as an auditor runs it on a machine
// of their own: `node bin/sigil.js audit verify --log … --checkpoint … --public-key …`, with no
// database, no data directory and no Sigil setting in its environment. The export is edited here
// by hand (and re-hashed, as someone covering their tracks would) to be refused.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointBody, checkpointNote } from '../src/modules/audit/checkpoint.note.js';
import { requireTool, run, tempDir } from './signing/support.js';
import { ensureServerBuilt } from './support/server-build.js';
import {
  buildCompany,
  buildGroup,
  buildUser,
  client,
  createWorld,
  type GroupFixture,
  type World,
} from './support/world.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SIGIL = join(ROOT, 'bin', 'sigil.js');

let world: World;
let group: GroupFixture;
let auditor: string;
let tmp: ReturnType<typeof tempDir>;
let exported: string;
let latest: { note: string; treeSize: number; rootHash: string; signedAt: string } & Record<string, unknown>;
let early: string;
const files: Record<string, string> = {};

/** The built command, in a directory of its own, with PATH only. */
function sigil(...args: string[]) {
  const result = spawnSync(process.execPath, [SIGIL, ...args], {
    cwd: tmp.dir,
    env: { PATH: process.env.PATH ?? '' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, out: result.stdout, err: result.stderr };
}

const verify = (log: string, ...extra: string[]) =>
  sigil('audit', 'verify', '--log', log, '--checkpoint', files.checkpoint!, '--public-key', files.key!, ...extra);
const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const parse = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, any>);
const write = (name: string, lines: Array<Record<string, unknown>>) =>
  tmp.file(name, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);

/** Links the lines again from `from` on, as an editor of the file who knows the format would. */
function relink(lines: Array<Record<string, any>>, from: number) {
  for (let i = from; i < lines.length; i++) {
    const line = lines[i]!;
    line.place = i;
    // lines[0] is the header: the first place follows the genesis hash.
    line.prevHash = i === 1 ? '0'.repeat(64) : lines[i - 1]!.hash;
    line.hash = sha256Hex(`${line.prevHash}:${line.place}:${sha256Hex(line.said)}`);
  }
  return lines;
}

beforeAll(async () => {
  // As users run it: the compiled build, made under the shared lock when src/ is newer (never
  // rewritten while another test file runs it).
  await ensureServerBuilt();
  requireTool('openssl');
  tmp = tempDir('sigil-audit-offline-');
  world = await createWorld();
  group = await buildGroup(world);
  auditor = (
    await buildUser(world, { groupId: group.groupId, companyId: group.hq.id, roles: [{ role: 'security_auditor' }] })
  ).token;
  const api = client(world, group.admin.token);
  for (let i = 0; i < 5; i++)
    await api.post('/api/v1/companies', { parentId: group.hq.id, name: `Offline ${i}`, code: `OFF-${i}` });
  await client(world, auditor).get('/api/v1/audit-events/verify');
  early = (await client(world).get(`/api/v1/audit/checkpoints/latest?groupId=${group.groupId}`)).body.note;
  for (let i = 0; i < 6; i++)
    await api.post('/api/v1/companies', { parentId: group.hq.id, name: `Later ${i}`, code: `LAT-${i}` });
  await client(world, auditor).get('/api/v1/audit-events/verify');
  latest = (await client(world).get(`/api/v1/audit/checkpoints/latest?groupId=${group.groupId}`)).body;
  const key = (await client(world).get('/api/v1/audit/log-key')).body;
  files.checkpoint = tmp.file('checkpoint.txt', latest.note);
  files.checkpointJson = tmp.file('checkpoint.json', JSON.stringify(latest));
  files.early = tmp.file('early.txt', early);
  files.key = tmp.file('log.pem', key.publicKey);
  files.keyJson = tmp.file('log-key.json', JSON.stringify(key));
  const answer = await world.app.inject({
    method: 'GET',
    url: '/api/v1/audit/export',
    headers: { authorization: `Bearer ${auditor}` },
  });
  expect(answer.statusCode).toBe(200);
  expect(answer.headers['content-type']).toContain('application/x-ndjson');
  exported = answer.body;
  files.log = tmp.file('audit-log.jsonl', exported);
}, 400_000);
afterAll(async () => {
  await world?.close();
  tmp?.remove();
});

describe('sigil audit verify --log (offline, the built command)', () => {
  it('exports every place of the chain, what each hash covers, under a header naming the group', async () => {
    const [header, ...lines] = parse(exported);
    expect(header).toMatchObject({ format: 'sigil-audit-log/1', groupId: group.groupId, treeSize: latest.treeSize });
    expect(lines.map((l) => l.place)).toEqual(Array.from({ length: latest.treeSize }, (_, i) => i + 1));
    expect(lines.every((l) => l.version === 4 && typeof l.said === 'string')).toBe(true);
    const sub = await buildCompany(world, { groupId: group.groupId, parent: group.hq });
    const subAuditor = await buildUser(world, {
      groupId: group.groupId,
      companyId: sub.id,
      roles: [{ role: 'security_auditor' }],
    });
    expect((await client(world, subAuditor.token).get('/api/v1/audit/export')).status).toBe(403);
    expect((await client(world).get('/api/v1/audit/export')).status).toBe(401);
  });

  it('finds an export intact against saved checkpoints, as notes or as the JSON the API gives, with no database', () => {
    const intact = verify(files.log!);
    expect(intact.err).toBe('');
    expect(intact.status).toBe(0);
    expect(intact.out).toMatch(
      new RegExp(`^intact: ${latest.treeSize} places verified; checkpoint of ${latest.treeSize} places`),
    );
    const both = sigil(
      'audit',
      'verify',
      '--log',
      files.log!,
      '--checkpoint',
      files.early!,
      '--checkpoint',
      files.checkpointJson!,
      '--public-key',
      files.keyJson!,
      '--json',
    );
    expect(both.status).toBe(0);
    expect(JSON.parse(both.out)).toMatchObject({ intact: true, checked: latest.treeSize, uncovered: 0 });
    expect(JSON.parse(both.out).checkpoints.map((c: { matches: boolean }) => c.matches)).toEqual([true, true]);
    // Nothing was written where it ran: no database, no data directory.
    expect(readdirSync(tmp.dir).filter((f) => f === 'data')).toEqual([]);
  });

  it('says which places no checkpoint given covers yet', async () => {
    await client(world, group.admin.token).post('/api/v1/companies', {
      parentId: group.hq.id,
      name: 'After',
      code: 'AFTER',
    });
    await client(world, auditor).get('/api/v1/audit-events/verify');
    const longer = await world.app.inject({
      method: 'GET',
      url: '/api/v1/audit/export',
      headers: { authorization: `Bearer ${auditor}` },
    });
    const answer = verify(tmp.file('longer.jsonl', longer.body), '--json');
    expect(answer.status).toBe(0);
    expect(JSON.parse(answer.out).uncovered).toBeGreaterThan(0);
  });

  it('refuses an event changed in the file, even with its line hashed again', () => {
    const lines = parse(exported);
    const index = lines.findIndex((l) => typeof l.said === 'string' && l.said.includes('Offline 2'));
    expect(index).toBeGreaterThan(0);
    lines[index]!.said = lines[index]!.said.replace('Offline 2', 'Crooked 2');
    const altered = verify(write('altered.jsonl', lines));
    expect(altered.out).toMatch(new RegExp(`^NOT INTACT: altered at place ${index}`));
    expect(altered.status).toBe(1);
    const rehashed = verify(write('rehashed.jsonl', relink(lines, index)), '--json');
    expect(rehashed.status).toBe(1);
    expect(JSON.parse(rehashed.out)).toMatchObject({
      intact: false,
      firstProblem: { kind: 'rewritten', seq: latest.treeSize },
    });
  });

  it('refuses an export cut short, and two events reordered', () => {
    const lines = parse(exported);
    const cut = verify(write('cut.jsonl', lines.slice(0, -3)), '--json');
    expect(cut.status).toBe(1);
    expect(JSON.parse(cut.out)).toMatchObject({ firstProblem: { kind: 'truncated', seq: latest.treeSize - 2 } });
    const swapped = [...lines];
    [swapped[6], swapped[7]] = [swapped[7]!, swapped[6]!];
    expect(verify(write('swapped.jsonl', swapped)).status).toBe(1);
    const reordered = verify(write('reordered.jsonl', relink(swapped, 6)), '--json');
    expect(reordered.status).toBe(1);
    expect(JSON.parse(reordered.out)).toMatchObject({ firstProblem: { kind: 'rewritten' } });
  });

  it('refuses a checkpoint changed by a byte, one signed by another key, and two checkpoints of one size that disagree', async () => {
    const changed = tmp.file(
      'changed.txt',
      latest.note.replace(`\n${latest.treeSize}\n`, `\n${latest.treeSize - 1}\n`),
    );
    const forged = sigil(
      'audit',
      'verify',
      '--log',
      files.log!,
      '--checkpoint',
      changed,
      '--public-key',
      files.key!,
      '--json',
    );
    expect(forged.status).toBe(1);
    expect(JSON.parse(forged.out)).toMatchObject({ firstProblem: { kind: 'checkpoint_forged' } });
    const other = tmp.file(
      'other.pem',
      run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']).out,
    );
    const otherPublic = tmp.file('other-public.pem', run('openssl', ['pkey', '-in', other, '-pubout']).out);
    const wrongKey = sigil(
      'audit',
      'verify',
      '--log',
      files.log!,
      '--checkpoint',
      files.checkpoint!,
      '--public-key',
      otherPublic,
    );
    expect(wrongKey.status).toBe(1);
    expect(wrongKey.out).toContain('checkpoint_forged');
    // The log key signing another root of the same size: a fork.
    const row = await world.db.selectFrom('audit_log_keys').selectAll().executeTakeFirstOrThrow();
    const signer = await world.ctx.keys.open({ store: 'database', sealed: row.sealed_key! }, `audit-log:${row.id}`);
    const statement = {
      groupId: group.groupId,
      treeSize: latest.treeSize,
      rootHash: createHash('sha256').update('another history').digest(),
      signedAt: new Date(),
    };
    const signature = await signer.sign(Buffer.from(checkpointBody(statement)), 'SHA-256');
    const twin = tmp.file('twin.txt', checkpointNote({ ...statement, keyId: row.key_id, signature }));
    const fork = sigil(
      'audit',
      'verify',
      '--log',
      files.log!,
      '--checkpoint',
      files.checkpoint!,
      '--checkpoint',
      twin,
      '--public-key',
      files.key!,
      '--json',
    );
    expect(fork.status).toBe(1);
    expect(JSON.parse(fork.out)).toMatchObject({ firstProblem: { kind: 'forked', seq: latest.treeSize } });
  });

  it('exits 2 on files that are not what they should be, naming the problem', async () => {
    const garbage = verify(tmp.file('garbage.jsonl', 'not json\n'));
    expect(garbage.status).toBe(2);
    expect(garbage.err).toContain('the first line of the log is not JSON');
    expect(sigil('audit', 'verify', '--log', files.log!, '--checkpoint', files.checkpoint!).status).toBe(2);
    expect(sigil('audit', 'verify', '--log', files.log!, '--public-key', files.key!).status).toBe(2);
    expect(verify(join(tmp.dir, 'missing.jsonl')).err).toContain('cannot read');
    const notKey = sigil(
      'audit',
      'verify',
      '--log',
      files.log!,
      '--checkpoint',
      files.checkpoint!,
      '--public-key',
      files.checkpoint!,
    );
    expect(notKey.status).toBe(2);
    const notNote = sigil(
      'audit',
      'verify',
      '--log',
      files.log!,
      '--checkpoint',
      files.key!,
      '--public-key',
      files.key!,
    );
    expect(notNote.status).toBe(2);
    const otherGroup = await buildGroup(world);
    const header = { ...parse(exported)[0], groupId: otherGroup.groupId };
    const misfiled = verify(write('misfiled.jsonl', [header, ...parse(exported).slice(1)]));
    expect(misfiled.status).toBe(2);
    expect(misfiled.err).toContain(`the log of group ${otherGroup.groupId}`);
    writeFileSync(join(tmp.dir, 'empty.jsonl'), '');
    expect(verify(join(tmp.dir, 'empty.jsonl')).status).toBe(2);
    expect(readFileSync(files.log!, 'utf8')).toBe(exported);
    // Eight runs of the built CLI, one after another: a process start each, slow on a busy machine.
  }, 120_000);
});
