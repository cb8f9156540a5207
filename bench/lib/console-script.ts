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
  /** Files a chunk refers to by URL: among them the workers Vite bundled for it (`?worker&url`). */
  assets?: string[];
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
 * The script a screen loads: its page's entry (`index.html`, the console, or a page built beside
 * it such as `verify.html`), then each lazy part named by the end of its source path
 * (`i18n/messages.zh-CN.ts`, `SignedIn.tsx`, `OverviewPage.tsx`).
 */
export function scriptOfScreen(distDir: string, lazyParts: string[], entry = 'index.html'): ScreenScript {
  const manifest = readManifest(distDir);
  if (!manifest[entry]?.isEntry) throw new Error(`the console build has no entry ${entry}`);
  const files = new Set<string>();
  staticClosure(manifest, entry, files);
  for (const part of lazyParts) staticClosure(manifest, chunkKey(manifest, part), files);
  return measure(distDir, files);
}

function measure(distDir: string, files: Iterable<string>): ScreenScript {
  let bytes = 0;
  let gzipBytes = 0;
  for (const file of files) {
    const content = readFileSync(join(distDir, file));
    bytes += content.length;
    gzipBytes += gzipSync(content, { level: 9 }).length;
  }
  return { files: [...files].sort(), bytes, gzipBytes };
}

/**
 * What a page loads later, when a dynamic import runs (named by the end of its source path, e.g.
 * `sign/pdf.ts`): that chunk's file, the script that the first screen did not already load, and
 * apart from it the workers that script starts.
 */
export function scriptLoadedLater(
  distDir: string,
  entry: string,
  part: string,
): { chunk: string; script: ScreenScript; workers: ScreenScript } {
  const manifest = readManifest(distDir);
  const first = new Set(scriptOfScreen(distDir, [], entry).files);
  const files = new Set<string>();
  const key = chunkKey(manifest, part);
  staticClosure(manifest, key, files);
  const later = [...files].filter((file) => !first.has(file));
  const workers = new Set<string>();
  for (const file of files)
    for (const chunk of Object.values(manifest))
      if (chunk.file === file) for (const asset of chunk.assets ?? []) if (asset.endsWith('.js')) workers.add(asset);
  return { chunk: manifest[key]!.file, script: measure(distDir, later), workers: measure(distDir, workers) };
}

/** The screens the console's budget is set for (issue 13: each at most 120 KB of gzipped script). */
export const CONSOLE_SCREENS = {
  'sign-in page': ['i18n/messages.zh-CN.ts'],
  "employee's first screen": ['i18n/messages.zh-CN.ts', 'SignedIn.tsx', 'OverviewPage.tsx'],
} as const;

export const SCREEN_SCRIPT_GOAL_KB = 120;

export interface PageScreen {
  entry: string;
  goalKb: number;
  /** What the page loads later (dynamic imports), outside the goal but measured: a name → the source path's end. */
  later?: Record<string, string>;
}

/**
 * Pages built beside the console (their own entries), with their own goals: the public
 * verification page is a visitor's first and often only page, on a phone as often as not; so is
 * the outside signer's, opened from a text message, which loads pdf.js only once the code is in.
 */
export const PAGE_SCREENS: Record<string, PageScreen> = {
  'public verification page': { entry: 'verify.html', goalKb: 60 },
  "outside signer's page": { entry: 'sign.html', goalKb: 60, later: { 'PDF reader (pdf.js)': 'sign/pdf.ts' } },
};
