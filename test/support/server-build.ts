import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/**
 * The compiled server and CLI (dist/), as `node bin/sigil.js` runs them. CI builds before the
 * tests (npm run build); a local run whose dist/ is missing or older than src/ builds it here,
 * once, under a lock (test files run in parallel), and says so.
 */
export const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const sigilBin = join(root, 'bin', 'sigil.js');
const entry = join(root, 'dist', 'cli', 'main.js');
const lockDir = join(
  tmpdir(),
  `sigil-server-build-${createHash('sha256').update(root).digest('hex').slice(0, 12)}.lock`,
);
const STALE_LOCK_MS = 5 * 60_000;

/** Newest modification time of the sources that go into dist/ (tests are not built). */
function newestSource(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return path.endsWith('.test.ts') ? 0 : stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestSource(join(path, name))));
}

function staleness(): 'fresh' | 'missing' | 'stale' {
  if (!existsSync(entry)) return 'missing';
  return statSync(entry).mtimeMs >= newestSource(join(root, 'src')) ? 'fresh' : 'stale';
}

export async function ensureServerBuilt(): Promise<void> {
  const deadline = Date.now() + STALE_LOCK_MS;
  for (let state = staleness(); state !== 'fresh'; state = staleness()) {
    try {
      mkdirSync(lockDir);
    } catch {
      if (Date.now() - (statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs ?? 0) > STALE_LOCK_MS)
        rmSync(lockDir, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`the server build lock ${lockDir} was held too long`);
      await sleep(250);
      continue;
    }
    try {
      if (staleness() !== 'fresh') {
        process.stderr.write(
          `dist/ is ${state === 'missing' ? 'missing' : 'older than src/'}: running npm run build:server (CI builds before the tests)\n`,
        );
        execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'pipe' });
      }
    } finally {
      rmSync(lockDir, { recursive: true, force: true });
    }
  }
}
