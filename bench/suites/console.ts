// What the console's screens load (the sign-in page and an employee's first screen, each goal
// ≤ 120 KB of gzipped script), and what serving the console compressed costs: compressing each response as it goes out (what
// @fastify/compress does, at its defaults: brotli quality 4, gzip level 6) against files
// compressed once at build time (brotli 11, gzip 9; what `npm run build:web` writes and the
// server sends as they are). Measured on the built bundle in web/dist.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import {
  CONSOLE_SCREENS,
  PAGE_SCREENS,
  readManifest,
  SCREEN_SCRIPT_GOAL_KB,
  scriptLoadedLater,
  scriptOfScreen,
} from '../lib/console-script.js';
import { ROOT } from '../lib/server.js';
import type { Result } from '../report.js';
import type { Suite, SuiteContext } from '../suite.js';

const ROUNDS = 15;
/** The build-time settings are slow (brotli 11: seconds); a few runs show their cost. */
const BUILD_ROUNDS = 3;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Median milliseconds of `work` over `rounds` runs, after one to warm up. */
function timed(work: () => Buffer, rounds = ROUNDS): { ms: number; bytes: number } {
  let bytes = work().length;
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    bytes = work().length;
    samples.push(performance.now() - started);
  }
  return { ms: median(samples), bytes };
}

const brotli = (quality: number) => (bytes: Buffer) =>
  brotliCompressSync(bytes, {
    params: { [constants.BROTLI_PARAM_QUALITY]: quality, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length },
  });

async function consoleBench(ctx: SuiteContext): Promise<Result[]> {
  const dist = join(ROOT, 'web', 'dist');
  const screens = Object.entries(CONSOLE_SCREENS).map(([screen, parts]) => {
    const script = scriptOfScreen(dist, [...parts]);
    ctx.note(`the ${screen} loads ${script.files.length} scripts: ${script.files.join(', ')}`);
    return {
      metric: `script loaded by the ${screen}, gzip`,
      subject: 'both',
      value: script.gzipBytes / 1024,
      unit: 'KB',
      decimals: 0,
      goal: { op: '<=' as const, value: SCREEN_SCRIPT_GOAL_KB },
    };
  });
  const later: Result[] = [];
  for (const [screen, { entry, goalKb, later: parts = {} }] of Object.entries(PAGE_SCREENS)) {
    const script = scriptOfScreen(dist, [], entry);
    ctx.note(`the ${screen} loads ${script.files.length} scripts: ${script.files.join(', ')}`);
    screens.push({
      metric: `script loaded by the ${screen}, gzip`,
      subject: 'both',
      value: script.gzipBytes / 1024,
      unit: 'KB',
      decimals: 0,
      goal: { op: '<=' as const, value: goalKb },
    });
    // Loaded after the first screen (outside its goal), and the workers it starts: measured, no goal.
    for (const [name, part] of Object.entries(parts)) {
      const { script: more, workers } = scriptLoadedLater(dist, entry, part);
      ctx.note(`the ${screen} loads later, for its ${name}: ${[...more.files, ...workers.files].join(', ')}`);
      const kb = (n: number) => n / 1024;
      later.push(
        {
          metric: `${name}, loaded later by the ${screen}, gzip`,
          subject: 'both',
          value: kb(more.gzipBytes),
          unit: 'KB',
          decimals: 0,
        },
        { metric: `${name}: its worker, gzip`, subject: 'both', value: kb(workers.gzipBytes), unit: 'KB', decimals: 0 },
      );
    }
  }
  // The console's entry chunk, which every console screen loads, stands for the compression figures.
  const bundle = readManifest(dist)['index.html']!.file;
  const bytes = readFileSync(join(dist, bundle));
  ctx.note(`the console's entry script ${bundle}: ${(bytes.length / 1024).toFixed(0)} KB`);
  ctx.log('compressing the bundle per response and once at build time');
  const perResponse = { br: timed(() => brotli(4)(bytes)), gzip: timed(() => gzipSync(bytes, { level: 6 })) };
  const once = {
    br: timed(() => brotli(11)(bytes), BUILD_ROUNDS),
    gzip: timed(() => gzipSync(bytes, { level: 9 }), BUILD_ROUNDS),
  };
  const kb = (n: number) => n / 1024;
  ctx.note(
    'precompressed files cost nothing per response (the server streams a file) and are smaller; per-response compression costs the CPU below on every load of a client without the bundle cached',
  );
  return [
    ...screens,
    ...later,
    { metric: 'entry script, uncompressed', subject: 'both', value: kb(bytes.length), unit: 'KB', decimals: 0 },
    { metric: 'CPU per response, brotli q4', subject: 'per response', value: perResponse.br.ms, unit: 'ms' },
    { metric: 'CPU per response, gzip 6', subject: 'per response', value: perResponse.gzip.ms, unit: 'ms' },
    { metric: 'bytes sent, brotli', subject: 'per response', value: kb(perResponse.br.bytes), unit: 'KB', decimals: 0 },
    { metric: 'bytes sent, gzip', subject: 'per response', value: kb(perResponse.gzip.bytes), unit: 'KB', decimals: 0 },
    { metric: 'CPU per response, brotli q4', subject: 'precompressed', value: 0, unit: 'ms' },
    { metric: 'CPU per response, gzip 6', subject: 'precompressed', value: 0, unit: 'ms' },
    { metric: 'bytes sent, brotli', subject: 'precompressed', value: kb(once.br.bytes), unit: 'KB', decimals: 0 },
    { metric: 'bytes sent, gzip', subject: 'precompressed', value: kb(once.gzip.bytes), unit: 'KB', decimals: 0 },
    {
      metric: 'once per build: brotli q11 + gzip 9',
      subject: 'precompressed',
      value: once.br.ms + once.gzip.ms,
      unit: 'ms',
    },
  ];
}

export const consoleSuite: Suite = {
  name: 'console',
  title: 'Serving the console compressed: per response (@fastify/compress defaults) vs. precompressed at build',
  run: consoleBench,
};
