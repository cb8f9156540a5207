// Child process of the `contracts` bench: the signing engine's own rate, to read the batch rate
// against. It signs the batch's PDFs with `signPdf` of the build (dist/signing), in this process,
// one after another, with what the server's batch signs with: the seal's own certificate and key
// (opened from the server's key vault under its master key), the built-in time-stamp authority
// in-process (B-T), and the seal's impression centred on the same keyword. No HTTP, no SQL while
// signing: the database is read once, before, for the certificate, the TSA and the impression.
// The bench runs it pinned to one CPU. Prints one JSON line.
//
//   node --import tsx bench/lib/measure-engine.ts SETTINGS.json
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { ROOT } from './server.js';

type DatabaseModule = typeof import('../../src/db/database.js');
type ConfigModule = typeof import('../../src/server/config.js');
type BlobStoreModule = typeof import('../../src/blobs/create-blob-store.js');
type SigningModule = typeof import('../../src/signing/index.js');
type PkiModule = typeof import('../../src/modules/pki/index.js');
type SealsModule = typeof import('../../src/modules/seals/index.js');
type AppContext = import('../../src/server/context.js').AppContext;

const built = <T>(path: string): Promise<T> => import(pathToFileURL(join(ROOT, 'dist', path)).href) as Promise<T>;

export interface MeasureEngineSettings {
  groupId: string;
  sealId: string;
  /** PDFs signed first, not measured. */
  warmupFiles: string[];
  /** The measured PDFs: the batch's. */
  files: string[];
  keyword: string;
  reason: string;
}

export interface MeasureEngineOutput {
  documents: number;
  seconds: number;
  documentsPerSecond: number;
  /** CPU of this process (main thread and libuv's pool) per document, ms. */
  cpuMsPerDocument: number;
  /** Per document, ms. */
  p50Ms: number;
  p99Ms: number;
  inputBytes: number;
  outputBytes: number;
  certificate: { subject: string; keySpec: string };
}

async function main(): Promise<void> {
  const settingsFile = process.argv[2];
  if (!settingsFile) throw new Error('usage: measure-engine.ts SETTINGS.json');
  const settings = JSON.parse(readFileSync(settingsFile, 'utf8')) as MeasureEngineSettings;
  const [
    { openDatabase },
    { parseConfig, loadMasterKey, MASTER_KEY_FILE },
    { createBlobStore },
    signing,
    { pki },
    seals,
  ] = await Promise.all([
    built<DatabaseModule>('db/database.js'),
    built<ConfigModule>('server/config.js'),
    built<BlobStoreModule>('blobs/create-blob-store.js'),
    built<SigningModule>('signing/index.js'),
    built<PkiModule>('modules/pki/index.js'),
    built<SealsModule>('modules/seals/index.js'),
  ]);
  const config = parseConfig(process.env);
  // The server's key: never a new one (loadMasterKey would make one where there is none).
  if (!config.masterKey && !existsSync(join(config.dataDir, MASTER_KEY_FILE)))
    throw new Error(`no ${MASTER_KEY_FILE} in ${config.dataDir}: the server has not run there`);
  const masterKey = loadMasterKey(config, () => undefined);
  const database = await openDatabase({ databaseUrl: config.databaseUrl, poolSize: 2 });
  try {
    const ctx = {
      db: database.db,
      dbKind: database.kind,
      config,
      masterKey,
      now: () => new Date(),
      blobs: createBlobStore(config),
      keys: signing.createKeyVault(config.pki, masterKey),
    } as unknown as AppContext;
    const seal = await seals.sealRecords.findSeal(ctx.db, { groupId: settings.groupId, id: settings.sealId });
    if (!seal?.imageSha256) throw new Error(`seal ${settings.sealId} not found, or without an impression`);
    // The seal's certificate as the server signs with it (issued at its first signature, before this runs).
    const certificate = await pki.ensureSealCertificate(
      ctx,
      { system: 'bench-engine' },
      { ...seal, groupId: settings.groupId },
    );
    const signer = await pki.openSigner(ctx, certificate);
    const timestamper = await pki.timestamperFor(ctx);
    const image = signing.prepareImage(
      await seals.sealImagePng(ctx, { groupId: settings.groupId, sha256: seal.imageSha256 }),
    );

    let outputBytes = 0;
    const sign = async (pdf: Buffer) => {
      const signed = await signing.signPdf(pdf, {
        signer,
        level: 'B-T',
        timestamper,
        fieldName: `Seal-${Math.random().toString(16).slice(2, 14).padEnd(12, '0')}`,
        reason: settings.reason,
        signingTime: new Date(),
        appearance: { image, kind: 'seal', at: { keyword: settings.keyword } },
      });
      if (signed.length <= pdf.length) throw new Error('signPdf returned no more bytes than it was given');
      return signed;
    };
    for (const file of settings.warmupFiles) await sign(readFileSync(file));

    // Read before the clock starts: the engine's rate, not the disk's.
    const pdfs = settings.files.map((file) => readFileSync(file));
    const times: number[] = [];
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (const pdf of pdfs) {
      const t = performance.now();
      outputBytes += (await sign(pdf)).length;
      times.push(performance.now() - t);
    }
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    times.sort((a, b) => a - b);
    const at = (q: number) => times[Math.min(times.length - 1, Math.max(0, Math.ceil(q * times.length) - 1))] ?? 0;
    const output: MeasureEngineOutput = {
      documents: pdfs.length,
      seconds,
      documentsPerSecond: pdfs.length / seconds,
      cpuMsPerDocument: (used.user + used.system) / 1000 / Math.max(1, pdfs.length),
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      inputBytes: pdfs.reduce((sum, pdf) => sum + pdf.length, 0),
      outputBytes,
      certificate: { subject: certificate.subject, keySpec: certificate.keySpec },
    };
    process.stdout.write(`${JSON.stringify(output)}\n`);
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`measure-engine: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
