// The chain and tree checks of a full verification on worker threads, for PostgreSQL. The database
// only reads: each worker streams a range of links, events and tiles with COPY … TO STDOUT (binary)
// on connections of its own, renders each version 4 event as `sigil_audit_said` does, and hashes
// the content, the link, the leaf and the tiles itself. A worker only says whether its range is
// clean: whenever it is not (or it meets a value it cannot render exactly), the caller runs the
// range's SQL check, which stays the definition of every verdict and of its details. The worker's
// code is plain JavaScript in a string, as in src/devices/verify-pool.ts, so it runs the same
// under the sources, the tests and the built dist/; it finds pg by the path this module resolves.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { onDatabaseClose, postgresUrlOf } from '../../db/database.js';
import type { Db } from '../../db/schema.js';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { hash } = require('node:crypto');
const pg = require(workerData.pg);

// The rows of a binary COPY, in order: onRow(buf, at) where field i starts at at[2i] and is
// at[2i + 1] bytes long (-1: null). The views are only good during the call. It reads the
// connection's socket itself, as pg-copy-streams does, but hands each row over where it lies in
// the chunk read: PostgreSQL sends a COPY's rows one CopyData message each (the header with the
// first), so only a message cut by the end of a chunk is copied, and only its own bytes. Whatever is not a clean run of
// rows of 'fields' fields (a malformed message, a row callback that throws) fails the read.
function readCopy(client, text, fields, onRow) {
  return new Promise((resolve, reject) => {
    const at = new Int32Array(2 * fields);
    let connection = null;
    let pgData = null;
    let rest = null;
    let header = false;
    let ended = false;
    let failed = null;
    const row = (buf, p, end) => {
      if (!header) {
        if (end - p < 19) throw new Error('COPY header cut short');
        p += 19 + buf.readInt32BE(p + 15);
        header = true;
        if (p === end) return;
      }
      const n = buf.readInt16BE(p);
      p += 2;
      if (n === -1) {
        ended = true;
        return;
      }
      if (n !== fields || ended) throw new Error('COPY row of ' + n + ' fields, not ' + fields);
      for (let i = 0; i < n; i++) {
        const len = buf.readInt32BE(p);
        p += 4;
        at[2 * i] = p;
        at[2 * i + 1] = len;
        if (len > 0) p += len;
      }
      if (p !== end) throw new Error('COPY row does not fill its message');
      onRow(buf, at);
    };
    const detach = (unread) => {
      connection.stream.removeListener('data', onData);
      connection.stream.on('data', pgData);
      if (unread.length > 0) pgData(unread);
    };
    // A CopyData message cut by the end of a chunk is gathered in 'cut' (filled up to 'filledCut')
    // from the chunks that follow, then parsed there: only its own bytes are copied, not the whole
    // next chunk. 'rest' holds the start of any other message cut so, or of a cut length field.
    let cut = null;
    let filledCut = 0;
    const copyData = (buf, p, end) => {
      if (failed !== null) return;
      try {
        row(buf, p + 5, end);
      } catch (error) {
        failed = error;
      }
    };
    const onData = (chunk) => {
      let pos = 0;
      if (cut !== null) {
        const take = Math.min(cut.length - filledCut, chunk.length);
        chunk.copy(cut, filledCut, 0, take);
        filledCut += take;
        if (filledCut < cut.length) return;
        const whole = cut;
        cut = null;
        copyData(whole, 0, whole.length);
        pos = take;
      }
      const buf = rest === null ? chunk : Buffer.concat([rest, chunk]);
      rest = null;
      while (buf.length - pos >= 5) {
        const code = buf[pos];
        const end = pos + 1 + buf.readInt32BE(pos + 1);
        // ErrorResponse: pg reads it (and says it through handleError). CopyDone: pg reads on.
        if (code === 0x45) return detach(buf.subarray(pos));
        if (code === 0x63) return detach(buf.subarray(end));
        if (end > buf.length) {
          if (code !== 0x64) break;
          cut = Buffer.allocUnsafe(end - pos);
          filledCut = buf.copy(cut, 0, pos);
          return;
        }
        if (code === 0x64) copyData(buf, pos, end);
        pos = end;
      }
      rest = pos < buf.length ? buf.subarray(pos) : null;
    };
    client.query({
      submit(c) {
        connection = c;
        const listeners = c.stream.listeners('data');
        if (listeners.length !== 1) return new Error('the connection has ' + listeners.length + ' data listeners');
        pgData = listeners[0];
        c.stream.removeListener('data', pgData);
        c.stream.on('data', onData);
        c.query('copy (' + text + ') to stdout with (format binary)');
      },
      handleError(error) {
        failed = failed || error;
        reject(failed);
      },
      handleCommandComplete() {},
      handleReadyForQuery() {
        if (failed !== null) reject(failed);
        else if (!ended) reject(new Error('the COPY stream ended early'));
        else resolve();
      },
    });
  });
}

/** An int8 at 'o'; NaN beyond 2^53. Read a byte at a time: Buffer's readers check their bounds. */
function int8(buf, o) {
  const hi = (buf[o] << 24) | (buf[o + 1] << 16) | (buf[o + 2] << 8) | buf[o + 3];
  if (hi > 0x1fffff || hi < -0x200000) return NaN;
  return hi * 4294967296 + ((buf[o + 4] << 24) | (buf[o + 5] << 16) | (buf[o + 6] << 8) | buf[o + 7]) + (buf[o + 4] >= 0x80 ? 4294967296 : 0);
}

/** Copies 'length' bytes; a loop costs less than Buffer#copy's checks for the few bytes moved here. */
function copyBytes(from, start, to, at, length) {
  for (let k = 0; k < length; k++) to[at + k] = from[start + k];
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
    copyBytes(NULL, 0, this.out, this.w, 4);
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
    copyBytes(this.prefix, 0, out, this.w, 19);
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
    copyBytes(this.group, 0, this.out, 0, this.group.length);
    this.w = this.group.length;
    if (!this.uuid(buf, at[2], at[3])) return null;
    this.sep();
    if (!this.timestamp(buf, at[8], at[9])) return null;
    for (let field = 5; field <= 14; field++) {
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

/** Whether the 'length' characters of 'text' are the bytes of 'buf' from 'o' (text of one-byte characters). */
function sameBytes(text, buf, o, length) {
  for (let k = 0; k < length; k++) if (text.charCodeAt(k) !== buf[o + k]) return false;
  return true;
}

// Places after+1 … through, each check of checkLinkRange (audit-tree.repository.ts): the places
// follow each other, each link follows the one before (place 'after''s, else 'previousHash'), its
// event is there, is of version 3 or 4 and hashes to the link, and the link's leaf is in its tile.
// True when every place holds. The hashes stay the bytes of their hex text, as read: only what
// SHA-256 returns becomes a string.
async function links(client, { groupId, after, through, previousHash }) {
  const g = "'" + groupId + "'::uuid";
  const most = through - after + 1;
  const places = new Float64Array(most);
  const events = new Float64Array(most);
  // Row i's prev_hash at 128i, its hash at 128i + 64: hex text, 64 bytes each (else not clean).
  const hex = Buffer.allocUnsafe(most * 128);
  let rows = 0;
  let odd = false;
  await readCopy(
    client,
    'select seq, event_seq, prev_hash, hash from audit_links where group_id = ' + g +
      ' and seq >= ' + after + ' and seq <= ' + through + ' order by seq',
    4,
    (buf, at) => {
      if (rows === most || at[5] !== 64 || at[7] !== 64) {
        odd = true;
        return;
      }
      places[rows] = int8(buf, at[0]);
      events[rows] = int8(buf, at[2]);
      copyBytes(buf, at[4], hex, 128 * rows, 64);
      copyBytes(buf, at[6], hex, 128 * rows + 64, 64);
      rows++;
    },
  );
  if (odd) return false;
  let first = 0;
  while (first < rows && places[first] <= after) first++;
  if (rows - first !== through - after) return false;
  for (let i = first; i < rows; i++) {
    // A gap, or events linked out of their order: the SQL check says what it is.
    if (places[i] !== after + 1 + (i - first)) return false;
    if (i > first && !(events[i] > events[i - 1])) return false;
  }
  if (first === 0 && (previousHash === null || !sameBytes(previousHash, hex, 0, 64))) return false;
  // The level 0 tiles of the range, 512 bytes apart; tileLength 0 for a tile not there.
  const firstTile = Math.floor(after / 16);
  const tileCount = Math.floor((through - 1) / 16) - firstTile + 1;
  const tileBytes = Buffer.alloc(tileCount * 512);
  const tileLength = new Int16Array(tileCount);
  await readCopy(
    client,
    'select idx, hashes from audit_tree_tiles where group_id = ' + g + ' and tile_level = 0 and idx >= ' +
      firstTile + ' and idx <= ' + (firstTile + tileCount - 1),
    2,
    (buf, at) => {
      const t = int8(buf, at[0]) - firstTile;
      if (!(t >= 0 && t < tileCount) || at[3] < 0 || at[3] > 512) {
        odd = true;
        return;
      }
      buf.copy(tileBytes, 512 * t, at[2], at[2] + at[3]);
      tileLength[t] = at[3];
    },
  );
  if (odd) return false;
  const render = new Renderer(groupId);
  // What a link hashes: prev_hash ":" place ":" content hash, as text; one view per length of place.
  const linked = Buffer.allocUnsafe(64 + 1 + 16 + 1 + 64);
  linked[64] = 0x3a;
  const views = [];
  const leaf = Buffer.alloc(33);
  let next = first;
  let ok = true;
  await readCopy(
    client,
    'select seq, id, chain_version, content_hash, occurred_at, actor_type, actor_id, actor_name, ip, user_agent,' +
      ' request_id, action, target_type, target_id, company_id, changes from audit_events where group_id = ' + g +
      ' and seq >= ' + events[first] + ' and seq <= ' + events[rows - 1] + ' order by seq',
    16,
    (buf, at) => {
      if (!ok) return;
      const seq = int8(buf, at[0]);
      if (next >= rows || seq < events[next]) return; // no place of this range holds it
      if (seq > events[next]) {
        ok = false; // the event of place places[next] is missing
        return;
      }
      const i = next++;
      const place = places[i];
      // The link follows the one before (place 'after''s row, or 'previousHash', checked above).
      if (at[5] !== 2 || (i > 0 && hex.compare(hex, 128 * (i - 1) + 64, 128 * i, 128 * i, 128 * i + 64) !== 0)) {
        ok = false;
        return;
      }
      const version = buf.readInt16BE(at[4]);
      let content = null;
      if (version === 3) content = at[7] === 64 ? buf.toString('latin1', at[6], at[6] + 64) : null;
      else if (version === 4) {
        const said = render.said(buf, at);
        content = said === null ? null : hash('sha256', said, 'hex');
      }
      if (content === null) {
        ok = false;
        return;
      }
      copyBytes(hex, 128 * i, linked, 0, 64);
      let digits = 0;
      for (let rest = place; rest >= 1; rest = Math.floor(rest / 10)) digits++;
      for (let k = 0, rest = place; k < digits; k++, rest = Math.floor(rest / 10))
        linked[65 + digits - 1 - k] = 0x30 + (rest % 10);
      linked[65 + digits] = 0x3a;
      linked.write(content, 66 + digits, 64, 'latin1');
      const view = (views[digits] ??= linked.subarray(0, 130 + digits));
      const link = hash('sha256', view, 'hex');
      if (!sameBytes(link, hex, 128 * i + 64, 64)) {
        ok = false;
        return;
      }
      const t = Math.floor((place - 1) / 16) - firstTile;
      const offset = ((place - 1) % 16) * 32;
      leaf.write(link, 1, 'hex');
      if (tileLength[t] < offset + 32 || !sameBytes(hash('sha256', leaf, 'latin1'), tileBytes, 512 * t + offset, 32))
        ok = false;
    },
  );
  return ok && next === rows;
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
          copyBytes(level, i * 32, node, 1, 64);
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
// The first is opened as the worker starts, which the pool does ahead of the first task.
const connect = () => {
  const opening = new pg.Client({ connectionString: workerData.url, application_name: 'sigil audit verify' });
  return opening.connect().then(() => opening);
};
let client = null;
let connecting = connect();
connecting.catch(() => undefined);

parentPort.on('message', async (message) => {
  if (message.close) {
    const open = client ?? (connecting && (await connecting.catch(() => null)));
    client = null;
    connecting = null;
    if (open) await open.end().catch(() => undefined);
    parentPort.postMessage({ closed: true });
    return;
  }
  const { id, task } = message;
  try {
    if (client === null) {
      const opening = connecting ?? connect();
      connecting = null;
      client = await opening;
    }
    // The statements of a range see one snapshot. Each reads a range of a primary key in its
    // order, which an index scan gives as it walks: left to itself the planner picks a parallel
    // bitmap heap scan and an external sort of the range (work_mem is small), for two to three
    // times the backend CPU, and workers the two cores do not have.
    await client.query(
      'begin transaction isolation level repeatable read, read only; ' +
        'set local enable_bitmapscan = off; set local enable_seqscan = off; set local max_parallel_workers_per_gather = 0',
    );
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
    const entry = this.#workers.find((w) => w.pending.size === 0) ?? this.#start();
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
      if (entry.pending.size === 0 && this.#workers.includes(entry)) this.#rest(entry);
    }
  }

  /**
   * Starts the workers, and their connections, ahead of the tasks: about a quarter of a second
   * each, spent while the caller reads what it needs before it has any task to give.
   */
  warm(): void {
    while (this.#workers.length < this.size) this.#rest(this.#start());
  }

  /** Lets an idle worker end after IDLE_MS, and the process exit meanwhile. */
  #rest(entry: PoolWorker): void {
    entry.worker.unref();
    entry.timer = setTimeout(() => void this.#end(entry), IDLE_MS);
    entry.timer.unref();
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

  /** A new worker (the caller runs at most `size` tasks at once). */
  #start(): PoolWorker {
    const require = createRequire(import.meta.url);
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      resourceLimits: { maxYoungGenerationSizeMb: 64 },
      workerData: { url: this.#url, pg: require.resolve('pg') },
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
