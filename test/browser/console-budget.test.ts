// The console's script budget (issue 13): the sign-in page and an employee's first screen each
// load at most 120 KB of gzipped script, every page being a chunk fetched when first shown and
// each language a chunk of its own. Sizes, not timings: the same build gives the same bytes.
// `npm run bench console` prints the same figures beside the goal.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CONSOLE_SCREENS,
  SCREEN_SCRIPT_GOAL_KB,
  readManifest,
  scriptOfScreen,
} from '../../bench/lib/console-script.js';
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
});
