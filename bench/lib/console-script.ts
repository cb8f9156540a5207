// What script a screen of the built console loads, read from Vite's manifest (web/dist/.vite/
// manifest.json): the entry and everything it imports statically, then for each lazily loaded
// part of the screen (the language, the signed-in shell, the page) the same. Sizes are gzip at
// level 9, what the server sends to a browser that accepts gzip (brotli is smaller still).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
}

type Manifest = Record<string, ManifestChunk>;

export function readManifest(distDir: string): Manifest {
  const path = join(distDir, '.vite', 'manifest.json');
  if (!existsSync(path)) throw new Error(`${path} is missing: npm run build:web first`);
  return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
}

/** The chunk whose source path ends with `suffix` (e.g. `/OverviewPage.tsx`); exactly one must. */
function chunkKey(manifest: Manifest, suffix: string): string {
  const keys = Object.keys(manifest).filter((key) => key === suffix || key.endsWith(`/${suffix}`));
  if (keys.length !== 1) throw new Error(`the console build has ${keys.length} chunks for ${suffix}`);
  return keys[0]!;
}

/** The files a chunk needs before it runs: itself and its static imports, transitively. */
function staticClosure(manifest: Manifest, key: string, into: Set<string>): void {
  const chunk = manifest[key];
  if (!chunk || into.has(chunk.file)) return;
  into.add(chunk.file);
  for (const next of chunk.imports ?? []) staticClosure(manifest, next, into);
}

export interface ScreenScript {
  files: string[];
  bytes: number;
  gzipBytes: number;
}

/**
 * The script a screen loads: the entry's, then each lazy part named by the end of its source path
 * (`i18n/messages.zh-CN.ts`, `SignedIn.tsx`, `OverviewPage.tsx`).
 */
export function scriptOfScreen(distDir: string, lazyParts: string[]): ScreenScript {
  const manifest = readManifest(distDir);
  const entries = Object.entries(manifest).filter(([, chunk]) => chunk.isEntry);
  if (entries.length !== 1) throw new Error(`the console build has ${entries.length} entries, not one`);
  const files = new Set<string>();
  staticClosure(manifest, entries[0]![0], files);
  for (const part of lazyParts) staticClosure(manifest, chunkKey(manifest, part), files);
  let bytes = 0;
  let gzipBytes = 0;
  for (const file of files) {
    const content = readFileSync(join(distDir, file));
    bytes += content.length;
    gzipBytes += gzipSync(content, { level: 9 }).length;
  }
  return { files: [...files].sort(), bytes, gzipBytes };
}

/** The screens the console's budget is set for (issue 13: each at most 120 KB of gzipped script). */
export const CONSOLE_SCREENS = {
  'sign-in page': ['i18n/messages.zh-CN.ts'],
  "employee's first screen": ['i18n/messages.zh-CN.ts', 'SignedIn.tsx', 'OverviewPage.tsx'],
} as const;

export const SCREEN_SCRIPT_GOAL_KB = 120;
