// PDF signatures made on worker threads. signPdf spends a few milliseconds of CPU per document
// (parsing, the seal's placement, hashing, the CMS, writing the incremental update); on the event
// loop those run one after another and hold every request back, so a batch of two hundred
// documents signed at once uses one core of however many there are. The pool runs signPdf in
// workers; the main thread keeps what a worker must not or cannot hold and answers for it: the
// private-key operation (a key sealed in the database or in a PKCS#11 token stays behind its
// Signer on this thread: Invariant 6; node:crypto's RSA and ECDSA run on libuv's pool anyway),
// the time-stamp (the built-in TSA's key likewise) and the CRLs.
//
// The workers load the compiled dist/signing/pdf-sign-worker.js, or, from the sources (tests,
// tsx), the .ts file through tsx's loader, so the same code runs in both.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SigningError } from './errors.js';
import { signPdf, type SignPdfOptions } from './pades.js';
import type { PreparedImage } from './pdf/image.js';
import {
  asBuffer,
  describeError,
  mapImages,
  revive,
  type ImageRef,
  type SignJob,
  type ToMain,
  type ToWorker,
  type WireError,
} from './pdf-sign-wire.js';

export interface PdfSigningPool {
  /** Workers at most; 0 signs on the calling thread. */
  readonly size: number;
  /** The same as `signPdf`, on a worker thread when the pool has any. */
  signPdf(pdf: Buffer, options: SignPdfOptions): Promise<Buffer>;
  /** Ends the workers; a later signature starts new ones. */
  close(): Promise<void>;
}

interface Job {
  options: SignPdfOptions;
  resolve: (signed: Buffer) => void;
  reject: (error: Error) => void;
  /** A failure of the key, TSA or CRLs answered on this thread: rethrown as it was, not as the worker saw it. */
  cause?: unknown;
}

interface PoolWorker {
  worker: Worker;
  jobs: Map<number, Job>;
  /** The prepared images this worker holds (see `ImageRef`). */
  images: Set<number>;
}

/** Prepared images a worker keeps at most; then it forgets them all and is sent them again. */
const IMAGES_KEPT = 32;
/**
 * Each prepared image's reference, while the caller keeps the image (a batch, the seal-image cache).
 * A prepared image is never changed once made, so the object names its content.
 */
const imageRefs = new WeakMap<PreparedImage, number>();
let nextImageRef = 0;

/** Workers for the machine: one per core, at most four (each holds a copy of the engine, ~30 MB). */
export function defaultSigningWorkers(): number {
  return Math.max(1, Math.min(4, availableParallelism()));
}

export function createPdfSigningPool(size = defaultSigningWorkers()): PdfSigningPool {
  let workers: PoolWorker[] = [];
  let nextJob = 0;

  const fromWire = (wire: WireError) =>
    wire.code ? new SigningError(wire.code, wire.message, wire.details ?? {}) : new Error(wire.message);

  function start(): PoolWorker {
    const entry: PoolWorker = { worker: spawnWorker(), jobs: new Map(), images: new Set() };
    const { worker } = entry;
    worker.on('message', (message: ToMain) => {
      const job = entry.jobs.get(message.job);
      if (!job) return;
      if (message.type === 'call') {
        void answer(job, message.kind, message.args).then(
          (value) => worker.postMessage({ type: 'answer', call: message.call, value } satisfies ToWorker),
          (error: unknown) => {
            job.cause ??= error;
            worker.postMessage({ type: 'answer', call: message.call, error: describeError(error) } satisfies ToWorker);
          },
        );
        return;
      }
      entry.jobs.delete(message.job);
      if (entry.jobs.size === 0) worker.unref();
      if (message.value) job.resolve(asBuffer(message.value));
      else
        job.reject(job.cause instanceof Error ? job.cause : fromWire(message.error ?? { message: 'signing failed' }));
    });
    const fail = (error: Error) => {
      workers = workers.filter((w) => w !== entry);
      for (const job of entry.jobs.values()) job.reject(new Error(`a PDF signing worker failed: ${error.message}`));
      entry.jobs.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`it exited with code ${code}`)));
    worker.unref();
    workers.push(entry);
    return entry;
  }

  /** The idlest worker, or a new one while every running one is busy and there is room. */
  function pick(): PoolWorker {
    let best: PoolWorker | undefined;
    for (const w of workers) if (!best || w.jobs.size < best.jobs.size) best = w;
    if (!best || (best.jobs.size > 0 && workers.length < size)) return start();
    return best;
  }

  return {
    size,
    signPdf(pdf, options) {
      if (size < 1) return signPdf(pdf, options);
      const { signer, timestamper, revocation, ...rest } = options;
      const id = ++nextJob;
      const target = pick();
      const resetImages = target.images.size >= IMAGES_KEPT;
      if (resetImages) target.images.clear();
      const images: Record<number, unknown> = {};
      const refer = (image: unknown): unknown => {
        if (Buffer.isBuffer(image) || !image || typeof image !== 'object') return image;
        const prepared = image as PreparedImage;
        let ref = imageRefs.get(prepared);
        if (ref === undefined) imageRefs.set(prepared, (ref = ++nextImageRef));
        if (!target.images.has(ref)) {
          images[ref] = prepared;
          target.images.add(ref);
        }
        return { imageRef: ref } satisfies ImageRef;
      };
      // The PDF in a buffer of its own, handed over: posting a view would copy what it views.
      const bytes = new Uint8Array(pdf.length);
      bytes.set(pdf);
      const message: SignJob = {
        type: 'sign',
        id,
        pdf: bytes,
        signer: {
          keyType: signer.keyType,
          algorithm: signer.algorithm,
          publicKey: signer.publicKey,
          certificate: signer.certificate,
          chain: signer.chain,
        },
        timestamper: timestamper ? timestamper.name : null,
        revocation: Boolean(revocation),
        options: mapImages(rest, refer),
        images,
        resetImages,
      };
      return new Promise<Buffer>((resolve, reject) => {
        target.jobs.set(id, { options, resolve, reject });
        target.worker.ref();
        try {
          target.worker.postMessage(message, [bytes.buffer]);
        } catch (error) {
          // Not sent: neither are its images.
          target.jobs.delete(id);
          for (const ref of Object.keys(images)) target.images.delete(Number(ref));
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
    },
    async close() {
      const ending = workers;
      workers = [];
      await Promise.all(ending.map((w) => w.worker.terminate()));
    },
  };
}

async function answer(job: Job, kind: string, args: unknown[]): Promise<unknown> {
  const { signer, timestamper, revocation } = job.options;
  const [first, second] = revive(args) as [unknown, unknown];
  if (kind === 'sign') return signer.sign(first as Buffer, second as Parameters<typeof signer.sign>[1]);
  if (kind === 'timestamp' && timestamper)
    return timestamper.timestamp(first as Buffer, second as Parameters<typeof timestamper.timestamp>[1]);
  if (kind === 'crls' && revocation) return revocation.crlsFor(first as Buffer[]);
  throw new Error(`the signing worker asked for ${kind}, which this signature has not`);
}

const here = import.meta.url;
const fromSources = here.endsWith('.ts');

function spawnWorker(): Worker {
  const script = new URL(fromSources ? './pdf-sign-worker.ts' : './pdf-sign-worker.js', here);
  // None of the process's own flags: `--input-type`, `--import` of a preload, `--cpu-prof` are the
  // main thread's business, and some are refused in a worker.
  if (!fromSources) return new Worker(script, { execArgv: [] });
  // From the sources the worker needs a TypeScript loader: tsx's, registered in the worker itself
  // (under vitest the main thread has none a worker would inherit).
  // Resolved as `require` resolves it (the only way under vitest), then its ES module twin: tsx's
  // CommonJS entry, imported, loads its ES half by a path that does not exist.
  const tsx = pathToFileURL(
    createRequire(here)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { (m.register ?? m.default.register)(); return import(${JSON.stringify(script.href)}); });`;
  return new Worker(boot, { eval: true, execArgv: [] });
}
