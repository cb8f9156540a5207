import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

/**
 * The console the browser tests drive, built once: several test files run in parallel, and
 * two `vite build`s emptying web/dist at the same time would break each other (and the
 * server already serving it), so one builds under a lock while the others wait.
 */

export const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const webDir = join(root, 'web');
export const distDir = join(webDir, 'dist');
const lockDir = join(
  tmpdir(),
  `sigil-console-build-${createHash('sha256').update(root).digest('hex').slice(0, 12)}.lock`,
);
const STALE_LOCK_MS = 5 * 60_000;

/** Newest modification time under a path (the console's sources). */
function newestChange(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newestChange(join(path, name))));
}

/** Built and not older than its sources (a stale build would test old code). */
function isFresh(): boolean {
  const index = join(distDir, 'index.html');
  const sources = Math.max(
    newestChange(join(webDir, 'src')),
    // index.html and the pages built beside the console (verify.html, …)
    ...readdirSync(webDir)
      .filter((name) => name.endsWith('.html'))
      .map((name) => newestChange(join(webDir, name))),
    newestChange(join(webDir, 'vite.config.ts')),
  );
  return existsSync(index) && statSync(index).mtimeMs >= sources;
}

export async function ensureConsoleBuilt(): Promise<void> {
  const deadline = Date.now() + STALE_LOCK_MS;
  while (!isFresh()) {
    try {
      mkdirSync(lockDir);
    } catch {
      // Someone else is building; a lock left by a crashed run is taken over after a while.
      if (Date.now() - statSync(lockDir, { throwIfNoEntry: false })!.mtimeMs > STALE_LOCK_MS)
        rmSync(lockDir, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`the console build lock ${lockDir} was held too long`);
      await sleep(250);
      continue;
    }
    try {
      // NODE_ENV as users get it: vitest sets it to `test`, which would build React's development
      // edition (larger, slower, other warnings) instead of the one `npm run build` ships.
      if (!isFresh())
        execFileSync('npx', ['vite', 'build', '--config', 'web/vite.config.ts'], {
          cwd: root,
          stdio: 'pipe',
          env: { ...process.env, NODE_ENV: 'production' },
        });
    } finally {
      rmSync(lockDir, { recursive: true, force: true });
    }
  }
}
