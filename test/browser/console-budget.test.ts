// The console's script budget (issue 13): the sign-in page and an employee's first screen each
// load at most 120 KB of gzipped script, every page being a chunk fetched when first shown and
// each language a chunk of its own. Sizes, not timings: the same build gives the same bytes.
// `npm run bench console` prints the same figures beside the goal.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CONSOLE_SCREENS,
  PAGE_SCREENS,
  SCREEN_SCRIPT_GOAL_KB,
  readManifest,
  scriptLoadedLater,
  scriptOfScreen,
} from '../../bench/lib/console-script.js';
import { STANDALONE_PAGES } from '../../src/server/plugins/web.js';
import { distDir, ensureConsoleBuilt } from './console-build.js';

beforeAll(async () => {
  await ensureConsoleBuilt();
}, 180_000);

describe("the console's script budget", () => {
  for (const [screen, parts] of Object.entries(CONSOLE_SCREENS))
    it(`loads at most ${SCREEN_SCRIPT_GOAL_KB} KB of gzipped script for the ${screen}`, () => {
      const script = scriptOfScreen(distDir, [...parts]);
      expect(script.gzipBytes / 1024, script.files.join(', ')).toBeLessThanOrEqual(SCREEN_SCRIPT_GOAL_KB);
    });

  it('keeps the pages and the languages out of the sign-in page', () => {
    const signIn = scriptOfScreen(distDir, [...CONSOLE_SCREENS['sign-in page']]);
    const manifest = readManifest(distDir);
    const fileOf = (suffix: string) =>
      Object.entries(manifest).find(([key]) => key.endsWith(suffix))?.[1].file ?? `(no chunk for ${suffix})`;
    for (const lazy of ['SignedIn.tsx', 'SealPage.tsx', 'FlowEditorPage.tsx', 'AuditPage.tsx', 'messages.en.ts'])
      expect(signIn.files, lazy).not.toContain(fileOf(lazy));
    // The one language it shows is there.
    expect(signIn.files).toContain(fileOf('messages.zh-CN.ts'));
  });

  for (const [screen, { entry, goalKb, later = {} }] of Object.entries(PAGE_SCREENS)) {
    it(`loads at most ${goalKb} KB of gzipped script for the ${screen}`, () => {
      const script = scriptOfScreen(distDir, [], entry);
      expect(script.gzipBytes / 1024, script.files.join(', ')).toBeLessThanOrEqual(goalKb);
    });
    for (const [name, part] of Object.entries(later))
      it(`keeps the ${name} out of the ${screen}'s first screen`, () => {
        const first = scriptOfScreen(distDir, [], entry).files;
        const { chunk, script, workers } = scriptLoadedLater(distDir, entry, part);
        expect(first).not.toContain(chunk);
        expect(script.files).toContain(chunk);
        for (const file of workers.files) expect(first).not.toContain(file);
      });
  }

  it('keeps pdf.js out of the sign-in page and the first screen: only the pages that draw a PDF fetch it', () => {
    const textOf = (files: string[]) => files.map((file) => readFileSync(join(distDir, file), 'utf8')).join('\n');
    for (const [screen, parts] of Object.entries(CONSOLE_SCREENS))
      expect(textOf(scriptOfScreen(distDir, [...parts]).files), screen).not.toContain('GlobalWorkerOptions');
    // It is there behind the contract pages' lazy import, so the check above would see it if it moved up.
    expect(textOf(scriptOfScreen(distDir, ['contracts/pdf-render.ts']).files)).toContain('GlobalWorkerOptions');
  });

  it("builds every page the server answers beside the console, each loading none of the console's code", () => {
    const manifest = readManifest(distDir);
    const consoleScript = scriptOfScreen(distDir, ['SignedIn.tsx', 'messages.en.ts', 'messages.zh-CN.ts']);
    for (const page of STANDALONE_PAGES) {
      expect(manifest[page.file]?.isEntry, `${page.file} is not an entry of web/vite.config.ts`).toBe(true);
      const script = scriptOfScreen(distDir, [], page.file);
      expect(script.files).not.toContain(manifest['index.html']!.file);
      // What both load can only be a small leaf module (the stored language), never React or the shell.
      for (const file of script.files.filter((f) => consoleScript.files.includes(f)))
        expect(readFileSync(join(distDir, file)).length, file).toBeLessThan(2048);
      const text = script.files.map((file) => readFileSync(join(distDir, file), 'utf8')).join('\n');
      expect(text, 'React is in the page').not.toContain('react.transitional.element');
    }
  });
});
