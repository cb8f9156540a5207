// One worker thread of the PDF signing pool (`pdf-sign-pool.ts`): it runs signPdf (parsing, the
// seal's placement, hashing, the CMS, the incremental update) on its own thread. What it cannot
// hold stays on the main thread and is asked for by message: the private-key operation (a key
// sealed in the database or in a PKCS#11 token never enters a worker: Invariant 6), the
// time-stamp and the CRLs.
import { parentPort } from 'node:worker_threads';
import { SigningError } from './errors.js';
import { signPdf, type RevocationSource, type SignPdfOptions } from './pades.js';
import type { Signer } from './signer.js';
import type { Timestamper } from './tsa.js';
import type { PreparedImage } from './pdf/image.js';
import {
  asBuffer,
  describeError,
  mapImages,
  type ImageRef,
  revive,
  type CallKind,
  type ToMain,
  type ToWorker,
  type SignJob,
  type WireError,
} from './pdf-sign-wire.js';

const port = parentPort;
if (!port) throw new Error('pdf-sign-worker runs as a worker thread');

/** The prepared images the pool sent (a seal's impression once per worker, not with every document). */
const images = new Map<number, PreparedImage>();

let nextCall = 0;
const calls = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

function callMain(job: number, kind: CallKind, args: unknown[]): Promise<unknown> {
  const call = ++nextCall;
  return new Promise((resolve, reject) => {
    calls.set(call, { resolve, reject });
    port!.postMessage({ type: 'call', job, call, kind, args } satisfies ToMain);
  });
}

function errorFrom(wire: WireError): Error {
  return wire.code ? new SigningError(wire.code, wire.message, wire.details ?? {}) : new Error(wire.message);
}

/** A signer's certificates as this worker holds them, by their content (see `heldCertificates`). */
type HeldCertificates = Pick<Signer, 'publicKey' | 'certificate' | 'chain'>;
const certificatesHeld = new Map<string, HeldCertificates>();
/** Signers' certificates a worker keeps at most; then it forgets them all. */
const CERTIFICATES_KEPT = 64;

/**
 * The same buffers for the same certificates, job after job: what the engine derives from a
 * signer's certificate and key (the signing-certificate attribute, the signer identifier, the
 * certificate set, the signature's length) it keeps per buffer, so fresh copies with every job
 * would make it all again for every document.
 */
function heldCertificates(s: SignJob['signer']): HeldCertificates {
  const key = [s.publicKey, s.certificate, ...s.chain].map((b) => asBuffer(b).toString('base64')).join('.');
  let held = certificatesHeld.get(key);
  if (!held) {
    if (certificatesHeld.size >= CERTIFICATES_KEPT) certificatesHeld.clear();
    held = { publicKey: asBuffer(s.publicKey), certificate: asBuffer(s.certificate), chain: s.chain.map(asBuffer) };
    certificatesHeld.set(key, held);
  }
  return held;
}

async function run(job: SignJob): Promise<Buffer> {
  const { signer: s } = job;
  const signer: Signer = {
    keyType: s.keyType,
    algorithm: s.algorithm,
    ...heldCertificates(s),
    sign: async (data, hash) => asBuffer((await callMain(job.id, 'sign', [data, hash])) as Uint8Array),
  };
  const timestamper: Timestamper | undefined = job.timestamper
    ? {
        name: job.timestamper,
        timestamp: async (digest, hash) =>
          asBuffer((await callMain(job.id, 'timestamp', [digest, hash])) as Uint8Array),
      }
    : undefined;
  const revocation: RevocationSource | undefined = job.revocation
    ? {
        crlsFor: async (certificates) =>
          ((await callMain(job.id, 'crls', [certificates])) as Uint8Array[]).map(asBuffer),
      }
    : undefined;
  if (job.resetImages) images.clear();
  for (const [ref, image] of Object.entries(job.images)) images.set(Number(ref), revive(image) as PreparedImage);
  const options = mapImages(
    revive(job.options) as Omit<SignPdfOptions, 'signer' | 'timestamper' | 'revocation'>,
    (image) => {
      if (!image || typeof image !== 'object' || !('imageRef' in image)) return image;
      const held = images.get((image as ImageRef).imageRef);
      if (!held) throw new Error(`the signing worker holds no image ${(image as ImageRef).imageRef}`);
      return held;
    },
  );
  return signPdf(asBuffer(job.pdf), {
    ...options,
    signer,
    ...(timestamper ? { timestamper } : {}),
    ...(revocation ? { revocation } : {}),
  });
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'answer') {
    const waiting = calls.get(message.call);
    calls.delete(message.call);
    if (!waiting) return;
    if (message.error) waiting.reject(errorFrom(message.error));
    else waiting.resolve(message.value);
    return;
  }
  run(message).then(
    (signed) => {
      // The output in a buffer of its own, handed over rather than copied.
      const out = new Uint8Array(signed.length);
      out.set(signed);
      port.postMessage({ type: 'done', job: message.id, value: out } satisfies ToMain, [out.buffer]);
    },
    (error: unknown) =>
      port.postMessage({ type: 'done', job: message.id, error: describeError(error) } satisfies ToMain),
  );
});
