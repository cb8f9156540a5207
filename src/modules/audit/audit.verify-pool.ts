// The chain and tree checks of a full verification on worker threads, for PostgreSQL. The database
// only reads: each worker streams a range of links, events and tiles with COPY … TO STDOUT (binary)
// on connections of its own, renders each version 4 event as `sigil_audit_said` does, and hashes
// the content, the link, the leaf and the tiles itself. A worker only says whether its range is
// clean: whenever it is not (or it meets a value it cannot render exactly), the caller runs the
// range's SQL check, which stays the definition of every verdict and of its details. The worker's
// code is plain JavaScript in a string, as in src/devices/verify-pool.ts, so it runs the same
// under the sources, the tests and the built dist/; it finds pg and pg-copy-streams by the paths
// this module resolves.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { onDatabaseClose, postgresUrlOf } from '../../db/database.js';
import type { Db } from '../../db/schema.js';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { hash } = require('node:crypto');
const pg = require(workerData.pg);
const { to: copyTo } = require(workerData.copyStreams);

// The rows of a binary COPY, in order: onRow(buf, at) where field i starts at at[2i] and is
// at[2i + 1] bytes long (-1: null). The views are only good during the call.
async function readCopy(client, text, fields, onRow) {
  const at = new Int32Array(2 * fields);
  const stream = client.query(copyTo('copy (' + text + ') to stdout with (format binary)'));
  let rest = null;
  let header = false;
  let ended = false;
  for await (const chunk of stream) {
    const buf = rest === null ? chunk : Buffer.concat([rest, chunk]);
    let pos = 0;
    if (!header) {
      if (buf.length < 19 || buf.length < 19 + buf.readInt32BE(15)) {
        rest = buf;
        continue;
      }
      pos = 19 + buf.readInt32BE(15);
      header = true;
    }
    while (!ended && buf.length - pos >= 2) {
      const n = buf.readInt16BE(pos);
      if (n === -1) {
        pos += 2;
        ended = true;
        break;
      }
      if (n !== fields) throw new Error('COPY row of ' + n + ' fields, not ' + fields);
      let p = pos + 2;
      let complete = true;
      for (let i = 0; i < n; i++) {
        if (buf.length - p < 4) {
          complete = false;
          break;
        }
        const len = buf.readInt32BE(p);
        p += 4;
        at[2 * i] = p;
        at[2 * i + 1] = len;
        if (len > 0) {
          if (buf.length - p < len) {
            complete = false;
            break;
          }
          p += len;
        }
      }
      if (!complete) break;
      onRow(buf, at);
      pos = p;
    }
    rest = pos < buf.length ? buf.subarray(pos) : null;
  }
  if (!ended) throw new Error('the COPY stream ended early');
}

/** An int8 at 'o'; NaN beyond 2^53. */
function int8(buf, o) {
  const hi = buf.readInt32BE(o);
  if (hi > 0x1fffff || hi < -0x200000) return NaN;
  return hi * 4294967296 + buf.readUInt32BE(o + 4);
}

const HEX = Array.from({ length: 256 }, (_, i) => [
  '0123456789abcdef'.charCodeAt(i >> 4),
  '0123456789abcdef'.charCodeAt(i & 15),
]);
const QUOTE = 0x22;
const NULL = Buffer.from('null');
const EPOCH_2000 = 946684800000;

/**
 * What a version 4 event says, rendered into 'out' as sigil_audit_said renders it:
 * json_build_array(group_id, id, occurred_at at time zone 'UTC', actor_type, actor_id, actor_name,
 * ip, user_agent, request_id, action, target_type, target_id, company_id, changes)::text. Texts
 * are JSON strings as PostgreSQL's escape_json writes them (the escapes of JSON.stringify, for
 * valid UTF-8), uuids lower-case, the timestamp ISO 8601 with a T and its fraction trimmed of
 * trailing zeros, the changes jsonb's own text. Returns false for what it cannot render exactly
 * (a year outside 1 … 9999, infinity, an unknown jsonb version): the database says then.
 */
class Renderer {
  constructor(groupId) {
    this.out = Buffer.alloc(4096);
    this.w = 0;
    this.group = Buffer.from('["' + groupId + '", ');
    this.second = NaN;
    this.prefix = Buffer.alloc(19);
  }
  ensure(n) {
    if (this.w + n <= this.out.length) return;
    const bigger = Buffer.alloc(Math.max(this.out.length * 2, this.w + n));
    this.out.copy(bigger, 0, 0, this.w);
    this.out = bigger;
  }
  sep() {
    this.out[this.w++] = 0x2c;
    this.out[this.w++] = 0x20;
  }
  null() {
    NULL.copy(this.out, this.w);
    this.w += 4;
  }
  text(buf, start, len) {
    if (len < 0) return this.null();
    this.ensure(len * 6 + 4);
    const out = this.out;
    let w = this.w;
    out[w++] = QUOTE;
    // Copied a byte at a time: most texts are short, and buf.copy costs more than it moves.
    for (let i = start; i < start + len; i++) {
      const c = buf[i];
      if (c < 0x20 || c === QUOTE || c === 0x5c) {
        this.w += out.write(JSON.stringify(buf.toString('utf8', start, start + len)), this.w, 'utf8');
        return;
      }
      out[w++] = c;
    }
    out[w++] = QUOTE;
    this.w = w;
  }
  uuid(buf, start, len) {
    if (len < 0) return this.null();
    if (len !== 16) return false;
    const out = this.out;
    let w = this.w;
    out[w++] = QUOTE;
    for (let i = 0; i < 16; i++) {
      if (i === 4 || i === 6 || i === 8 || i === 10) out[w++] = 0x2d;
      const h = HEX[buf[start + i]];
      out[w++] = h[0];
      out[w++] = h[1];
    }
    out[w++] = QUOTE;
    this.w = w;
    return true;
  }
  timestamp(buf, start, len) {
    if (len !== 8) return false;
    // Microseconds since 2000-01-01 UTC; beyond 2^53 (before 1715, after 2285) as a BigInt.
    let second;
    let fraction;
    const micros = int8(buf, start);
    if (Number.isFinite(micros)) {
      second = Math.floor(micros / 1e6);
      fraction = micros - second * 1e6;
    } else {
      const big = buf.readBigInt64BE(start);
      let s = big / 1000000n;
      let f = big % 1000000n;
      if (f < 0n) {
        f += 1000000n;
        s -= 1n;
      }
      second = Number(s);
      fraction = Number(f);
    }
    if (second !== this.second) {
      const date = new Date(EPOCH_2000 + second * 1000);
      const year = date.getUTCFullYear();
      if (!(year >= 1 && year <= 9999)) return false;
      const two = (n) => String(n).padStart(2, '0');
      this.prefix.write(
        String(year).padStart(4, '0') + '-' + two(date.getUTCMonth() + 1) + '-' + two(date.getUTCDate()) + 'T' +
          two(date.getUTCHours()) + ':' + two(date.getUTCMinutes()) + ':' + two(date.getUTCSeconds()),
        0,
        'latin1',
      );
      this.second = second;
    }
    const out = this.out;
    out[this.w++] = QUOTE;
    this.prefix.copy(out, this.w);
    this.w += 19;
    if (fraction !== 0) {
      let digits = 6;
      while (fraction % 10 === 0) {
        fraction /= 10;
        digits -= 1;
      }
      out[this.w++] = 0x2e;
      for (let i = digits - 1; i >= 0; i--) {
        out[this.w + i] = 0x30 + (fraction % 10);
        fraction = Math.floor(fraction / 10);
      }
      this.w += digits;
    }
    out[this.w++] = QUOTE;
    return true;
  }
  /** The rendering of the event whose fields are at 'at' (the events statement's columns). */
  said(buf, at) {
    const changesLen = at[31];
    if (changesLen < 1 || buf[at[30]] !== 1) return null;
    this.w = 0;
    this.ensure(this.group.length + 256);
    this.group.copy(this.out, 0);
    this.w = this.group.length;
    if (!this.uuid(buf, at[2], at[3])) return null;
    this.sep();
    if (!this.timestamp(buf, at[8], at[9])) return null;
    for (const field of [5, 6, 7, 8, 9, 10, 11, 12, 13, 14]) {
      this.ensure(64);
      this.sep();
      const start = at[2 * field];
      const len = at[2 * field + 1];
      if (field === 6 || field === 13 || field === 14) {
        if (this.uuid(buf, start, len) === false) return null;
      } else this.text(buf, start, len);
    }
    this.sep();
    this.ensure(changesLen + 2);
    const out = this.out;
    let w = this.w;
    for (let i = at[30] + 1; i < at[30] + changesLen; i++) out[w++] = buf[i];
    out[w++] = 0x5d;
    this.w = w;
    return this.out.subarray(0, this.w);
  }
}

const sha256Hex = (data) => hash('sha256', data, 'hex');

// Places after+1 … through, each check of checkLinkRange (audit-tree.repository.ts): the places
// follow each other, each link follows the one before (place 'after''s, else 'previousHash'), its
// event is there, is of version 3 or 4 and hashes to the link, and the link's leaf is in its tile.
// True when every place holds.
async function links(client, { groupId, after, through, previousHash }) {
  const g = "'" + groupId + "'::uuid";
  const places = [];
  const events = [];
  const prevs = [];
  const hashes = [];
  await readCopy(
    client,
    'select seq, event_seq, prev_hash, hash from audit_links where group_id = ' + g +
      ' and seq >= ' + after + ' and seq <= ' + through + ' order by seq',
    4,
    (buf, at) => {
      places.push(int8(buf, at[0]));
      events.push(int8(buf, at[2]));
      prevs.push(buf.toString('utf8', at[4], at[4] + at[5]));
      hashes.push(buf.toString('utf8', at[6], at[6] + at[7]));
    },
  );
  let first = 0;
  while (first < places.length && places[first] <= after) first++;
  if (places.length - first !== through - after) return false;
  for (let i = first; i < places.length; i++) {
    // A gap, or events linked out of their order: the SQL check says what it is.
    if (places[i] !== after + 1 + (i - first)) return false;
    if (i > first && !(events[i] > events[i - 1])) return false;
  }
  const tiles = new Map();
  await readCopy(
    client,
    'select idx, hashes from audit_tree_tiles where group_id = ' + g + ' and tile_level = 0 and idx >= ' +
      Math.floor(after / 16) + ' and idx <= ' + Math.floor((through - 1) / 16),
    2,
    (buf, at) => tiles.set(int8(buf, at[0]), buf.toString('hex', at[2], at[2] + at[3])),
  );
  const render = new Renderer(groupId);
  const leaf = Buffer.alloc(33);
  let next = first;
  let ok = true;
  await readCopy(
    client,
    'select seq, id, chain_version, content_hash, occurred_at, actor_type, actor_id, actor_name, ip, user_agent,' +
      ' request_id, action, target_type, target_id, company_id, changes from audit_events where group_id = ' + g +
      ' and seq >= ' + events[first] + ' and seq <= ' + events[places.length - 1] + ' order by seq',
    16,
    (buf, at) => {
      if (!ok) return;
      const seq = int8(buf, at[0]);
      if (next >= places.length || seq < events[next]) return; // no place of this range holds it
      if (seq > events[next]) {
        ok = false; // the event of place places[next] is missing
        return;
      }
      const i = next++;
      const place = places[i];
      const before = i > 0 ? hashes[i - 1] : previousHash;
      if (prevs[i] !== before || at[5] !== 2) {
        ok = false;
        return;
      }
      const version = buf.readInt16BE(at[4]);
      let content = null;
      if (version === 3) content = at[7] < 0 ? null : buf.toString('utf8', at[6], at[6] + at[7]);
      else if (version === 4) {
        const said = render.said(buf, at);
        content = said === null ? null : sha256Hex(said);
      }
      if (content === null || sha256Hex(prevs[i] + ':' + place + ':' + content) !== hashes[i]) {
        ok = false;
        return;
      }
      const tile = tiles.get(Math.floor((place - 1) / 16));
      const offset = ((place - 1) % 16) * 64;
      leaf.write(hashes[i], 1, 'hex');
      if (tile === undefined || tile.length < offset + 64 || sha256Hex(leaf) !== tile.substring(offset, offset + 64))
        ok = false;
    },
  );
  return ok && next === places.length;
}

// Full tiles of tileLevel - 1 with index in [from, to): each one's root (four levels of
// SHA-256(0x01 || left || right)) is the node its parent tile holds for it.
async function tiles(client, { groupId, tileLevel, from, to }) {
  const g = "'" + groupId + "'::uuid";
  const parents = new Map();
  await readCopy(
    client,
    'select idx, hashes from audit_tree_tiles where group_id = ' + g + ' and tile_level = ' + tileLevel +
      ' and idx >= ' + Math.floor(from / 16) + ' and idx <= ' + Math.floor((to - 1) / 16),
    2,
    (buf, at) => parents.set(int8(buf, at[0]), Buffer.from(buf.subarray(at[2], at[2] + at[3]))),
  );
  const node = Buffer.alloc(65);
  node[0] = 1;
  const level = Buffer.alloc(512);
  let ok = true;
  await readCopy(
    client,
    'select idx, hashes from audit_tree_tiles where group_id = ' + g + ' and tile_level = ' + (tileLevel - 1) +
      ' and idx >= ' + from + ' and idx < ' + to,
    2,
    (buf, at) => {
      if (!ok || at[3] !== 512) return;
      const idx = int8(buf, at[0]);
      buf.copy(level, 0, at[2], at[2] + 512);
      for (let width = 16; width > 1; width /= 2)
        for (let i = 0; i < width; i += 2) {
          level.copy(node, 1, i * 32, i * 32 + 64);
          level.write(hash('sha256', node, 'latin1'), (i / 2) * 32, 'latin1');
        }
      const parent = parents.get(Math.floor(idx / 16));
      const offset = (idx % 16) * 32;
      if (parent === undefined || parent.length < offset + 32 || level.compare(parent, offset, offset + 32, 0, 32) !== 0)
        ok = false;
    },
  );
  return ok;
}

// One connection for the worker's tasks, kept until it is told to close (or a task fails on it).
let client = null;

parentPort.on('message', async (message) => {
  if (message.close) {
    const open = client;
    client = null;
    if (open) await open.end().catch(() => undefined);
    parentPort.postMessage({ closed: true });
    return;
  }
  const { id, task } = message;
  try {
    if (client === null) {
      client = new pg.Client({ connectionString: workerData.url, application_name: 'sigil audit verify' });
      await client.connect();
    }
    // The statements of a range see one snapshot.
    await client.query('begin transaction isolation level repeatable read, read only');
    const clean = task.kind === 'links' ? await links(client, task) : await tiles(client, task);
    await client.query('commit');
    parentPort.postMessage({ id, clean });
  } catch (error) {
    const broken = client;
    client = null;
    if (broken) broken.end().catch(() => undefined);
    parentPort.postMessage({ id, error: String((error && error.stack) || error) });
  }
});
`;
export type VerifyTask =
  | { kind: 'links'; groupId: string; after: number; through: number; previousHash: string | null }
  | { kind: 'tiles'; groupId: string; tileLevel: number; from: number; to: number };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX64 = /^[0-9a-f]{64}$/;

interface PoolWorker {
  worker: Worker;
  pending: Map<number, { resolve: (clean: boolean) => void; reject: (error: Error) => void }>;
  timer: NodeJS.Timeout | null;
  /** Called when the worker says its connection is closed. */
  closed: (() => void) | null;
}

/** Whether a group's log can be checked by the workers: its id goes into the statements as a literal. */
export const canCheckInWorkers = (groupId: string) => UUID.test(groupId);

/** A worker with no task for this long closes its connection and ends. */
const IDLE_MS = 10_000;

/**
 * Workers for the verifications on one PostgreSQL server, at most `size` tasks at once. Each keeps
 * a connection while it has work, and for IDLE_MS after; an idle worker does not keep the process
 * alive. `close` ends them (the database handle does, when it closes).
 */
export class ChainVerifyPool {
  readonly size: number;
  readonly #url: string;
  #workers: PoolWorker[] = [];
  #id = 0;

  constructor(url: string, size = Math.max(1, Math.min(4, availableParallelism()))) {
    this.#url = url;
    this.size = size;
  }

  /** Whether the task's range is clean; false means "let the SQL check say". */
  async check(task: VerifyTask): Promise<boolean> {
    if (!canCheckInWorkers(task.groupId)) return false;
    if (task.kind === 'links' && task.previousHash !== null && !HEX64.test(task.previousHash)) return false;
    const entry = this.#idle();
    const id = ++this.#id;
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    entry.worker.ref();
    try {
      return await new Promise<boolean>((resolve, reject) => {
        entry.pending.set(id, { resolve, reject });
        entry.worker.postMessage({ id, task });
      });
    } finally {
      if (entry.pending.size === 0 && this.#workers.includes(entry)) {
        entry.worker.unref();
        entry.timer = setTimeout(() => void this.#end(entry), IDLE_MS);
        entry.timer.unref();
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#workers].map((entry) => this.#end(entry)));
  }

  /** Closes the worker's connection, then ends it. */
  async #end(entry: PoolWorker): Promise<void> {
    this.#workers = this.#workers.filter((w) => w !== entry);
    if (entry.timer) clearTimeout(entry.timer);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2_000);
      entry.closed = () => {
        clearTimeout(timer);
        resolve();
      };
      entry.worker.postMessage({ close: true });
    });
    await entry.worker.terminate();
  }

  /** A worker with nothing to do, started when none is (the caller runs at most `size` tasks at once). */
  #idle(): PoolWorker {
    const idle = this.#workers.find((w) => w.pending.size === 0);
    if (idle) return idle;
    const require = createRequire(import.meta.url);
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      resourceLimits: { maxYoungGenerationSizeMb: 64 },
      workerData: { url: this.#url, pg: require.resolve('pg'), copyStreams: require.resolve('pg-copy-streams') },
    });
    const entry: PoolWorker = { worker, pending: new Map(), timer: null, closed: null };
    worker.on('message', (message: { id: number; clean?: boolean; error?: string; closed?: boolean }) => {
      if (message.closed) return entry.closed?.();
      const waiting = entry.pending.get(message.id);
      entry.pending.delete(message.id);
      if (message.error !== undefined) waiting?.reject(new Error(`audit verify worker: ${message.error}`));
      else waiting?.resolve(message.clean === true);
    });
    const fail = (error: Error) => {
      this.#workers = this.#workers.filter((w) => w !== entry);
      if (entry.timer) clearTimeout(entry.timer);
      entry.closed?.();
      for (const waiting of entry.pending.values()) waiting.reject(error);
      entry.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`audit verify worker exited with code ${code}`)));
    this.#workers.push(entry);
    return entry;
  }
}

const pools = new WeakMap<Db, ChainVerifyPool>();

/**
 * The workers of a PostgreSQL database handle opened by `openDatabase`, made on first need and
 * closed with the handle; null for PGlite (whose checks run in SQL, in this process).
 */
export function chainVerifyPoolOf(db: Db): ChainVerifyPool | null {
  const known = pools.get(db);
  if (known) return known;
  const url = postgresUrlOf(db);
  if (!url) return null;
  const pool = new ChainVerifyPool(url);
  pools.set(db, pool);
  onDatabaseClose(db, () => pool.close());
  return pool;
}
