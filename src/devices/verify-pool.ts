// Device signatures checked on worker threads. A sync of a thousand devices' logs is bounded by
// one P-256 verification per event (about 70 µs of CPU each); on the event loop they run one after
// another and hold every other request back. Here a batch is cut into slices that workers verify
// while the event loop parses, reconciles and writes. The workers only run node:crypto's verify
// over bytes prepared here, so their code is a few lines of plain JavaScript, the same under the
// sources, the tests and the built dist/.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { KeyObject } from 'node:crypto';
import {
  isValidSignature,
  readP256PublicKey,
  signedBytesOf,
  type MessageKind,
  type SignedMessage,
} from './protocol.js';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
const keys = new Map();
parentPort.on('message', ({ id, spki, bytes, offsets }) => {
  let key = keys.get(spki);
  if (!key) {
    if (keys.size > 64) keys.clear();
    key = createPublicKey({ key: Buffer.from(spki, 'base64'), format: 'der', type: 'spki' });
    keys.set(spki, key);
  }
  const all = Buffer.from(bytes);
  const count = (offsets.length - 1) / 2;
  const results = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const data = all.subarray(offsets[2 * i], offsets[2 * i + 1]);
    const sig = all.subarray(offsets[2 * i + 1], offsets[2 * i + 2]);
    try {
      results[i] = verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, sig) ? 1 : 0;
    } catch {
      results[i] = 0;
    }
  }
  parentPort.postMessage({ id, results }, [results.buffer]);
});
`;

/** Below this many signatures a batch is verified on the calling thread: a hand-off costs more. */
const INLINE_BELOW = 24;
/** Signatures per hand-off: a device's usual sync goes to one worker, and concurrent syncs to both. */
const SLICE = 128;

interface Pending {
  resolve: (results: Uint8Array) => void;
  reject: (error: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  pending: Map<number, Pending>;
}

export class SignatureVerifyPool {
  readonly #size: number;
  #workers: PoolWorker[] = [];
  #next = 0;
  #id = 0;

  constructor(size = Math.max(1, Math.min(4, availableParallelism()))) {
    this.#size = size;
  }

  readonly #keys = new Map<string, KeyObject>();

  /**
   * Whether each message carries the signature of the P-256 key `spki` (DER), in the order given.
   * The key is decoded on this thread only when it checks a batch itself: OpenSSL 3 takes a tenth
   * of a millisecond to decode one, as long as a hundred verifications take to hand over.
   */
  async verify(kind: MessageKind, messages: SignedMessage[], spki: Uint8Array): Promise<boolean[]> {
    const spkiText = Buffer.from(spki).toString('base64');
    const key = () => {
      let decoded = this.#keys.get(spkiText);
      if (!decoded) {
        decoded = readP256PublicKey(spki);
        if (this.#keys.size >= 1_000) this.#keys.clear();
        this.#keys.set(spkiText, decoded);
      }
      return decoded;
    };
    if (messages.length < INLINE_BELOW || this.#size < 1)
      return messages.map((message) => isValidSignature(kind, message, key()));
    const prepared = messages.map((message) => signedBytesOf(kind, message));
    const results: boolean[] = prepared.map(() => false);
    const work: Array<{ index: number; data: Buffer; sig: Buffer }> = [];
    prepared.forEach((p, index) => {
      if (p) work.push({ index, ...p });
    });
    const slices = Math.min(this.#size, Math.ceil(work.length / SLICE));
    const per = Math.ceil(work.length / slices);
    await Promise.all(
      Array.from({ length: slices }, async (_, s) => {
        const slice = work.slice(s * per, (s + 1) * per);
        if (slice.length === 0) return;
        let answer: Uint8Array;
        try {
          answer = await this.#send(
            spkiText,
            slice.map((w) => [w.data, w.sig]),
          );
        } catch {
          // A worker that failed (out of memory, killed): the same check on this thread.
          answer = Uint8Array.from(slice, (w) => (isValidSignature(kind, messages[w.index]!, key()) ? 1 : 0));
        }
        slice.forEach((w, i) => {
          results[w.index] = answer[i] === 1;
        });
      }),
    );
    return results;
  }

  /** Ends the workers; a later verify starts new ones. */
  async close(): Promise<void> {
    const workers = this.#workers;
    this.#workers = [];
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }

  #send(spki: string, items: Array<[Buffer, Buffer]>): Promise<Uint8Array> {
    // One buffer of its own for the slice, handed over rather than copied: each small Buffer is a
    // view of a shared 8 KiB pool, and posting it would copy the whole pool every time.
    const offsets = new Int32Array(items.length * 2 + 1);
    let length = 0;
    items.forEach(([data, sig], i) => {
      offsets[2 * i] = length;
      length += data.length;
      offsets[2 * i + 1] = length;
      length += sig.length;
    });
    offsets[items.length * 2] = length;
    const packed = Buffer.allocUnsafeSlow(length);
    items.forEach(([data, sig], i) => {
      data.copy(packed, offsets[2 * i]);
      sig.copy(packed, offsets[2 * i + 1]);
    });
    const bytes = packed.buffer;
    const target = this.#worker();
    const id = ++this.#id;
    return new Promise<Uint8Array>((resolve, reject) => {
      target.pending.set(id, { resolve, reject });
      target.worker.ref();
      target.worker.postMessage({ id, spki, bytes, offsets }, [bytes, offsets.buffer]);
    });
  }

  #worker(): PoolWorker {
    if (this.#workers.length < this.#size) {
      const worker = new Worker(WORKER_SOURCE, { eval: true });
      const entry: PoolWorker = { worker, pending: new Map() };
      worker.on('message', ({ id, results }: { id: number; results: Uint8Array }) => {
        const waiting = entry.pending.get(id);
        entry.pending.delete(id);
        if (entry.pending.size === 0) worker.unref();
        waiting?.resolve(results);
      });
      const fail = (error: Error) => {
        this.#workers = this.#workers.filter((w) => w !== entry);
        for (const waiting of entry.pending.values()) waiting.reject(error);
        entry.pending.clear();
      };
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`signature worker exited with code ${code}`)));
      worker.unref();
      this.#workers.push(entry);
      return entry;
    }
    const entry = this.#workers[this.#next++ % this.#workers.length]!;
    return entry;
  }
}
