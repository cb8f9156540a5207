import { createContext, useCallback, useContext, useMemo, type ReactNode } from 'react';
import { api, type ApiError, type Company } from '../../api';
import { useQuery } from '../../hooks';

/**
 * The companies the user may see, loaded once (a page of 1,000 at a time, up to
 * MAX_PAGES) and kept in memory: the tree, the company pickers and the names shown
 * next to users all read from here. Beyond that, children load when a node opens.
 */
const PAGE = 1000;
const MAX_PAGES = 5;

export interface Directory {
  byId: ReadonlyMap<string, Company>;
  /** Depth-first, children by name: the order pickers show. */
  ordered: Company[];
  roots: Company[];
  childrenOf(id: string): Company[];
  loading: boolean;
  error: ApiError | null;
  truncated: boolean;
  reload(): void;
  upsert(company: Company): void;
  /** Loads a node's children when fewer are known than it has. */
  loadChildren(id: string): Promise<void>;
  isWithin(id: string, ancestorId: string): boolean;
  /** The chain from the top visible company down to `id`. */
  ancestry(id: string): Company[];
  nameOf(id: string | null | undefined): string;
}

const empty: Directory = {
  byId: new Map(),
  ordered: [],
  roots: [],
  childrenOf: () => [],
  loading: false,
  error: null,
  truncated: false,
  reload: () => {},
  upsert: () => {},
  loadChildren: async () => {},
  isWithin: () => false,
  ancestry: () => [],
  nameOf: (id) => id ?? '',
};

const DirectoryContext = createContext<Directory>(empty);

export function useDirectory(): Directory {
  return useContext(DirectoryContext);
}

const byName = (a: Company, b: Company) => a.name.localeCompare(b.name, 'zh-CN') || a.code.localeCompare(b.code);

interface Loaded {
  byId: Map<string, Company>;
  truncated: boolean;
}

const NOTHING: Loaded = { byId: new Map(), truncated: false };

async function loadDirectory(signal: AbortSignal): Promise<Loaded> {
  const byId = new Map<string, Company>();
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await api.companies({ limit: PAGE, cursor }, signal);
    for (const c of page.items) byId.set(c.id, c);
    cursor = page.nextCursor ?? undefined;
    pages += 1;
  } while (cursor !== undefined && pages < MAX_PAGES);
  return { byId, truncated: cursor !== undefined };
}

export function DirectoryProvider({ enabled, children }: { enabled: boolean; children: ReactNode }) {
  // One query for the session's store: a change anywhere in the console (a company created,
  // renamed, moved) asks again, like every other page part.
  const query = useQuery(['companies', 'directory'], loadDirectory, { enabled });
  const { byId, truncated } = query.data ?? NOTHING;
  const { setData, reload } = query;
  const loading = enabled && query.loading && query.data === undefined;
  const error = query.error;

  const childIndex = useMemo(() => {
    const index = new Map<string, Company[]>();
    for (const c of byId.values()) {
      if (!c.parentId) continue;
      const list = index.get(c.parentId) ?? [];
      list.push(c);
      index.set(c.parentId, list);
    }
    for (const list of index.values()) list.sort(byName);
    return index;
  }, [byId]);

  const roots = useMemo(
    () => [...byId.values()].filter((c) => !c.parentId || !byId.has(c.parentId)).sort(byName),
    [byId],
  );

  const ordered = useMemo(() => {
    const out: Company[] = [];
    const walk = (c: Company) => {
      out.push(c);
      for (const child of childIndex.get(c.id) ?? []) walk(child);
    };
    roots.forEach(walk);
    return out;
  }, [roots, childIndex]);

  const childrenOf = useCallback((id: string) => childIndex.get(id) ?? [], [childIndex]);

  const isWithin = useCallback(
    (id: string, ancestorId: string) => {
      let current = byId.get(id);
      for (let guard = 0; current && guard < 1000; guard++) {
        if (current.id === ancestorId) return true;
        current = current.parentId ? byId.get(current.parentId) : undefined;
      }
      return false;
    },
    [byId],
  );

  const ancestry = useCallback(
    (id: string) => {
      const chain: Company[] = [];
      let current = byId.get(id);
      for (let guard = 0; current && guard < 1000; guard++) {
        chain.unshift(current);
        current = current.parentId ? byId.get(current.parentId) : undefined;
      }
      return chain;
    },
    [byId],
  );

  const upsert = useCallback(
    (company: Company) =>
      setData((previous = NOTHING) => {
        const next = new Map(previous.byId);
        const parent = company.parentId ? next.get(company.parentId) : undefined;
        const isNew = !previous.byId.has(company.id);
        next.set(company.id, { ...previous.byId.get(company.id), ...company });
        if (isNew && parent) next.set(parent.id, { ...parent, childCount: (parent.childCount ?? 0) + 1 });
        return { ...previous, byId: next };
      }),
    [setData],
  );

  const loadChildren = useCallback(
    async (id: string) => {
      const node = byId.get(id);
      if (!node || (node.childCount ?? 0) <= (childIndex.get(id)?.length ?? 0)) return;
      const page = await api.companies({ parentId: id, limit: PAGE });
      setData((previous = NOTHING) => {
        const next = new Map(previous.byId);
        for (const c of page.items) next.set(c.id, c);
        return { ...previous, byId: next };
      });
    },
    [byId, childIndex, setData],
  );

  const value = useMemo<Directory>(
    () => ({
      byId,
      ordered,
      roots,
      childrenOf,
      loading,
      error,
      truncated,
      reload,
      upsert,
      loadChildren,
      isWithin,
      ancestry,
      nameOf: (id) => (id ? (byId.get(id)?.name ?? id.slice(0, 8)) : ''),
    }),
    [byId, ordered, roots, childrenOf, loading, error, truncated, reload, upsert, loadChildren, isWithin, ancestry],
  );

  return <DirectoryContext.Provider value={value}>{children}</DirectoryContext.Provider>;
}
