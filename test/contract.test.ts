import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorStatus } from '../src/server/errors.js';
import { createWorld, type World } from './support/world.js';

let world: World;
beforeAll(async () => {
  world = await createWorld();
});
afterAll(() => world.close());

const OPENAPI_FILE = new URL('../docs/openapi.json', import.meta.url);

describe('contracts', () => {
  it('documents every error code with its status', () => {
    const page = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    // Prettier pads the table's columns: a row is the code and its status, whatever the spaces.
    const rows = new Set(
      [...page.matchAll(/^\| `(\w+)` +\| (\d{3}) +\|/gm)].map(([, code, status]) => `${code} ${status}`),
    );
    const undocumented = Object.entries(errorStatus).filter(([code, status]) => !rows.has(`${code} ${status}`));
    expect(undocumented).toEqual([]);
  });

  it('describes every API route with request and response schemas', () => {
    const document = world.app.swagger() as {
      paths: Record<string, Record<string, { responses?: Record<string, unknown>; summary?: string }>>;
    };
    const missing: string[] = [];
    for (const route of world.app.routeTable.filter((r) => r.url.startsWith('/api/v1/'))) {
      const path = route.url.replace(/:(\w+)/g, '{$1}');
      const operation = document.paths[path]?.[route.method.toLowerCase()];
      if (!operation?.summary || !operation.responses || Object.keys(operation.responses).length === 0)
        missing.push(`${route.method} ${route.url}`);
    }
    expect(missing).toEqual([]);
  });

  it('matches the committed OpenAPI document (run with UPDATE_OPENAPI=1 to regenerate)', () => {
    const generated = `${JSON.stringify(world.app.swagger(), null, 2)}\n`;
    if (process.env.UPDATE_OPENAPI === '1') writeFileSync(OPENAPI_FILE, generated);
    expect(generated).toBe(readFileSync(OPENAPI_FILE, 'utf8'));
  });
});
