// The headers every answer carries and how the built console is served: a Content-Security-
// Policy the console works under (the browser tests run it so), never framed, no sniffing, no
// source map, hashed assets cached for a year and compressed once at build time, index.html
// revalidated, HSTS only behind https.
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../src/server/app.js';
import { distDir, ensureConsoleBuilt } from './browser/console-build.js';
import { createWorld, type World } from './support/world.js';

let world: World;
let app: App;
let consoleCopy: string;
let script: string;

/** An app on this world's database with other settings. */
async function appWith(config: Partial<World['ctx']['config']>): Promise<App> {
  const built = await buildApp({ ...world.ctx, config: { ...world.ctx.config, ...config } }, { logger: false });
  await built.ready();
  return built;
}

beforeAll(async () => {
  await ensureConsoleBuilt();
  // A copy, so this file can add a stray source map without touching the shared build.
  consoleCopy = mkdtempSync(join(tmpdir(), 'sigil-console-'));
  cpSync(distDir, consoleCopy, { recursive: true });
  // The largest script (the entry): every size is worth compressing.
  script = readdirSync(join(consoleCopy, 'assets'))
    .filter((f) => f.endsWith('.js'))
    .sort((a, b) => statSync(join(consoleCopy, 'assets', b)).size - statSync(join(consoleCopy, 'assets', a)).size)[0]!;
  writeFileSync(join(consoleCopy, 'assets', `${script}.map`), '{"version":3,"sources":["secret.ts"]}');
  world = await createWorld();
  app = await appWith({ consoleDir: consoleCopy });
}, 120_000);
afterAll(async () => {
  await app?.close();
  await world?.close();
  rmSync(consoleCopy, { recursive: true, force: true });
});

const get = (target: App, url: string, headers: Record<string, string> = {}) =>
  target.inject({ method: 'GET', url, headers });

describe('security headers', () => {
  it('serves the console under a strict policy, never framed, never sniffed', async () => {
    for (const url of ['/', '/applications/01a24cb5-7043-7c35-a0ab-02fb1361bf2b']) {
      const page = await get(app, url);
      expect(page.statusCode, url).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      const policy = String(page.headers['content-security-policy']);
      for (const directive of [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
      ])
        expect(policy, url).toContain(directive);
      expect(policy).not.toContain('unsafe-inline');
      expect(policy).not.toContain('unsafe-eval');
      expect(page.headers['x-frame-options']).toBe('DENY');
      expect(page.headers['x-content-type-options']).toBe('nosniff');
      expect(page.headers['referrer-policy']).toBe('no-referrer');
      expect(page.headers['strict-transport-security']).toBeUndefined();
      // The policy allows no inline script, so the page must have none.
      expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    }
  });

  it('sends the same headers on API answers and problems', async () => {
    for (const url of ['/api/v1/me', '/api/v1/nothing-here', '/healthz']) {
      const answer = await get(app, url);
      expect(answer.headers['x-content-type-options'], url).toBe('nosniff');
      expect(answer.headers['x-frame-options'], url).toBe('DENY');
      expect(String(answer.headers['content-security-policy']), url).toContain("frame-ancestors 'none'");
    }
  });

  it('sends HSTS only when SIGIL_PUBLIC_URL is https', async () => {
    const secure = await appWith({ publicUrl: 'https://sigil.example.test' });
    const plain = await appWith({ publicUrl: 'http://sigil.example.test' });
    try {
      expect((await get(secure, '/healthz')).headers['strict-transport-security']).toBe(
        'max-age=31536000; includeSubDomains',
      );
      expect((await get(plain, '/healthz')).headers['strict-transport-security']).toBeUndefined();
    } finally {
      await secure.close();
      await plain.close();
    }
  });
});

describe('the built console', () => {
  it('caches hashed assets for a year and revalidates index.html', async () => {
    expect((await get(app, `/assets/${script}`)).headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const css = readdirSync(join(consoleCopy, 'assets')).find((f) => f.endsWith('.css'))!;
    expect((await get(app, `/assets/${css}`)).headers['cache-control']).toBe('public, max-age=31536000, immutable');
    for (const url of ['/', '/index.html', '/seals'])
      expect((await get(app, url)).headers['cache-control'], url).toBe('no-cache');
  });

  it('sends the brotli or gzip file made at build time to clients that take it', async () => {
    const original = readFileSync(join(consoleCopy, 'assets', script));
    const br = await get(app, `/assets/${script}`, { 'accept-encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toMatch(/accept-encoding/i);
    expect(br.rawPayload.length).toBeLessThan(original.length / 3);
    expect(brotliDecompressSync(br.rawPayload).equals(original)).toBe(true);
    const gz = await get(app, `/assets/${script}`, { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.rawPayload).equals(original)).toBe(true);
    const plain = await get(app, `/assets/${script}`, { 'accept-encoding': 'identity' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.rawPayload.equals(original)).toBe(true);
  });

  it('serves no source map, and the bundle points at none', async () => {
    const map = await get(app, `/assets/${script}.map`);
    expect(map.statusCode).toBe(404);
    expect(map.body).not.toContain('secret.ts');
    expect(String(map.headers['content-type'])).toMatch(/^application\/problem\+json/);
    expect((await get(app, `/assets/${script}`)).body).not.toContain('sourceMappingURL');
    // The shared build has none at all.
    expect(readdirSync(join(distDir, 'assets')).filter((f) => f.endsWith('.map'))).toEqual([]);
  });

  it("serves no build bookkeeping: the manifest of chunks stays on the server's disk", async () => {
    expect(existsSync(join(consoleCopy, '.vite', 'manifest.json'))).toBe(true);
    for (const url of ['/.vite/manifest.json', '/.vite/manifest.json.gz', '/%2Evite/manifest.json'])
      expect((await get(app, url)).statusCode, url).toBe(404);
  });
});
