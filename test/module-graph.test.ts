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
  'documents',
  'groups',
  'users',
  'notifications',
  'roles',
  'seals',
  'grants',
  'pki',
  'approvals',
  'signatures',
  'contracts',
  'verification',
  'seal-lifecycle',
  'seal-cards',
  'sod-changes',
  'group-setup',
  'api-keys',
  'webhooks',
  'devices',
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

// Tables. Each belongs to one module (the "owns" column of docs/ARCHITECTURE.md) or to the
// infrastructure beside the modules; only its owner writes it. A module may read the tables of
// modules below it in a join (names and counts beside its own rows, in one statement); a read of a
// table owned higher up, or any write to another's table, goes through the owner's door.

/** Tables kept by src/ folders beside the modules (the queue, the outbox, the blob store). */
const INFRASTRUCTURE = ['jobs', 'outbox', 'outbox_claims', 'blobs', 'blob_uploads'];

/** The reads across the layers that remain, each with its reason. Adding one is a decision. */
const EXCEPTIONS: Array<{ module: string; table: string; access: 'read' | 'write'; why: string }> = [
  { module: 'auth', table: 'users', access: 'read', why: 'sign-in reads the credentials and builds the principal' },
  { module: 'auth', table: 'users', access: 'write', why: 'password, TOTP and lock-out columns are the credentials' },
  { module: 'auth', table: 'role_assignments', access: 'read', why: 'the principal carries its roles' },
  { module: 'auth', table: 'api_keys', access: 'read', why: 'an API key is a credential checked at sign-in' },
  { module: 'auth', table: 'api_keys', access: 'write', why: 'the time a key was last used, stamped at sign-in' },
  { module: 'users', table: 'role_assignments', access: 'read', why: "a person's roles and the people holding one" },
  { module: 'seals', table: 'seal_grants', access: 'read', why: "the seal record's count of live grants" },
  { module: 'seals', table: 'certificates', access: 'read', why: "the seal record's current certificate" },
];

interface TableUse {
  module: string;
  file: string;
  table: string;
  access: 'read' | 'write';
}

function tablesOfDatabase(): string[] {
  const schema = readFileSync(resolve(import.meta.dirname, '../src/db/schema.ts'), 'utf8');
  const body = /export interface Database \{([^}]*)\}/.exec(schema)![1]!;
  return [...body.matchAll(/^\s*([a-z_]+):/gm)].map((m) => m[1]!);
}

function ownersFromArchitecture(tables: string[]): Map<string, string[]> {
  const doc = readFileSync(resolve(import.meta.dirname, '../docs/ARCHITECTURE.md'), 'utf8');
  const owners = new Map<string, string[]>();
  const own = (table: string, owner: string) => owners.set(table, [...(owners.get(table) ?? []), owner]);
  for (const row of doc.matchAll(/^\|\s*([a-z-]+)\s*\|\s*([^|]*)\|/gm)) {
    if (!LAYERS.includes(row[1]!)) continue;
    for (const named of row[2]!.matchAll(/`([a-z_]+)(\*?)`/g)) {
      const matching = named[2] ? tables.filter((t) => t.startsWith(named[1]!)) : [named[1]!];
      for (const table of matching) own(table, row[1]!);
    }
  }
  for (const table of INFRASTRUCTURE) own(table, '(infrastructure)');
  return owners;
}

function tableUses(sources: Array<{ module: string; file: string; text: string }>, tables: string[]): TableUse[] {
  const known = new Set(tables);
  const patterns: Array<[RegExp, 'read' | 'write']> = [
    [/\b(?:insertInto|updateTable|deleteFrom)\(\s*'([a-z_]+)/g, 'write'],
    [/\b(?:insert\s+into|update|delete\s+from)\s+([a-z_]+)/gi, 'write'],
    [/\b(?:selectFrom|innerJoin|leftJoin|rightJoin|fullJoin)\(\s*'([a-z_]+)/g, 'read'],
    [/\b(?:from|join)\s+([a-z_]+)/gi, 'read'],
  ];
  const uses: TableUse[] = [];
  for (const { module, file, text } of sources)
    for (const [pattern, access] of patterns)
      for (const match of text.matchAll(pattern))
        if (known.has(match[1]!)) uses.push({ module, file, table: match[1]!, access });
  return uses;
}

function trespasses(uses: TableUse[], owners: Map<string, string[]>): string[] {
  const rank = new Map(LAYERS.map((m, i) => [m, i]));
  const found = new Set<string>();
  for (const use of uses) {
    const owner = owners.get(use.table)?.[0];
    if (owner === undefined || owner === use.module) continue;
    if (use.access === 'read' && (owner === '(infrastructure)' || rank.get(owner)! < rank.get(use.module)!)) continue;
    if (EXCEPTIONS.some((e) => e.module === use.module && e.table === use.table && e.access === use.access)) continue;
    found.add(`${use.module} ${use.access}s ${use.table} (${owner}'s) in ${use.file}`);
  }
  return [...found].sort();
}

function moduleSources() {
  return filesUnder(MODULES)
    .filter((file) => !file.endsWith('.test.ts'))
    .map((file) => ({
      module: relative(MODULES, file).split('/')[0]!,
      file: relative(MODULES, file),
      text: readFileSync(file, 'utf8'),
    }));
}

describe('the tables', () => {
  const tables = tablesOfDatabase();
  const owners = ownersFromArchitecture(tables);
  const uses = tableUses(moduleSources(), tables);

  it('each have exactly one owner, named in docs/ARCHITECTURE.md', () => {
    expect(tables.length).toBeGreaterThan(30);
    expect(tables.filter((t) => owners.get(t)?.length !== 1).map((t) => `${t}: ${owners.get(t) ?? 'none'}`)).toEqual(
      [],
    );
  });

  it('are written only by their owner and read across only downward, save the listed exceptions', () => {
    expect(trespasses(uses, owners)).toEqual([]);
  });

  it('lists no exception that the code no longer needs', () => {
    const stale = EXCEPTIONS.filter(
      (e) => !uses.some((u) => u.module === e.module && u.table === e.table && u.access === e.access),
    );
    expect(stale).toEqual([]);
  });

  it("finds a write to another module's table, in a builder and in SQL (the check attacked)", () => {
    const attack = [
      { module: 'signatures', file: 'x.ts', text: "trx.updateTable('authorizations').set({ uses_consumed: 0 })" },
      { module: 'seals', file: 'y.ts', text: 'sql`update applications set status = ${s}`' },
      { module: 'users', file: 'z.ts', text: "db.selectFrom('seals').selectAll()" },
    ];
    expect(trespasses(tableUses(attack, tables), owners)).toEqual([
      "seals writes applications (approvals's) in y.ts",
      "signatures writes authorizations (approvals's) in x.ts",
      "users reads seals (seals's) in z.ts",
    ]);
  });
});
