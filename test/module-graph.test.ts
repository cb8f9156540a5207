// The modules of src/modules form layers: a module may use those below it, through their doors
// (index.ts, enforced by lint), and never one above it, so there is no cycle. Where a lower module
// needs what a higher one provides (an application purpose, a resignation's consequences, who else
// may read a document), it declares an extension point that src/server/wiring.ts fills.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

const MODULES = resolve(import.meta.dirname, '../src/modules');

/** Lowest first. A module depends only on modules before it. */
const LAYERS = [
  'access',
  'audit',
  'companies',
  'audit-views',
  'auth',
  'notifications',
  'documents',
  'groups',
  'users',
  'roles',
  'seals',
  'grants',
  'pki',
  'signatures',
  'approvals',
  'seal-lifecycle',
  'seal-cards',
  'sod-changes',
  'group-setup',
  'api-keys',
  'health',
];

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** module -> the modules it imports from (type imports included: they couple designs as much). */
function moduleEdges(): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const file of filesUnder(MODULES)) {
    const from = relative(MODULES, file).split('/')[0]!;
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(?:from\s+|import\s*\(\s*)'(\.[^']+)'/g)) {
      const target = relative(MODULES, resolve(dirname(file), match[1]!));
      if (target.startsWith('..')) continue;
      const to = target.split('/')[0]!;
      if (to === from) continue;
      if (!edges.has(from)) edges.set(from, new Set());
      edges.get(from)!.add(to);
    }
  }
  return edges;
}

/** The edges that point up the layers, as "from -> to". */
function upward(edges: Map<string, Set<string>>, layers: string[]): string[] {
  const rank = new Map(layers.map((m, i) => [m, i]));
  const found: string[] = [];
  for (const [from, tos] of edges)
    for (const to of tos) if ((rank.get(to) ?? Infinity) > (rank.get(from) ?? -1)) found.push(`${from} -> ${to}`);
  return found.sort();
}

/** Strongly connected components with more than one module: the cycles, for the failure message. */
function cycles(edges: Map<string, Set<string>>): string[][] {
  let index = 0;
  const stack: string[] = [];
  const on = new Set<string>();
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) out.push(component.sort());
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return out;
}

describe('the module graph', () => {
  const edges = moduleEdges();

  it('places every module in a layer', () => {
    const modules = readdirSync(MODULES).filter((name) => statSync(join(MODULES, name)).isDirectory());
    expect(modules.filter((m) => !LAYERS.includes(m))).toEqual([]);
    expect(LAYERS.filter((m) => !modules.includes(m))).toEqual([]);
  });

  it('points down the layers only, so the modules form no cycle', () => {
    expect(upward(edges, LAYERS), `the cycles: ${JSON.stringify(cycles(edges))}`).toEqual([]);
    expect(cycles(edges)).toEqual([]);
  });

  it('has the access module at the bottom, depending on no other module', () => {
    expect([...(edges.get('access') ?? [])]).toEqual([]);
  });

  it('loads each module first, on its own, with every name of its door defined', async () => {
    // A module loaded first must find everything it reads as it loads (schemas built from another
    // module's lists) already there: a cycle brought back would show here as an undefined name.
    for (const module of LAYERS) {
      vi.resetModules();
      const door = (await import(/* @vite-ignore */ join(MODULES, module, 'index.ts'))) as Record<string, unknown>;
      expect(
        Object.entries(door)
          .filter(([, value]) => value === undefined)
          .map(([name]) => `${module}.${name}`),
      ).toEqual([]);
    }
  });

  it('finds an upward edge and the cycle it closes (the check attacked)', () => {
    const attacked = new Map([...edges].map(([k, v]) => [k, new Set(v)]));
    if (!attacked.has('access')) attacked.set('access', new Set());
    attacked.get('access')!.add('audit');
    expect(upward(attacked, LAYERS)).toEqual(['access -> audit']);
    expect(cycles(attacked).some((c) => c.includes('access') && c.includes('audit'))).toBe(true);
  });
});
