import { createContext, useCallback, useContext, useMemo, type ReactNode } from 'react';
import type { Me, Permission } from './api';
import { useDirectory } from './features/users/directory';

export interface Session {
  me: Me;
  reloadMe(): void;
  signOut(): Promise<void>;
}

export const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ value, children }: { value: Session; children: ReactNode }) {
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in console');
  return session;
}

/**
 * Whether the signed-in user holds a permission: anywhere, or over a given company
 * (a grant covers its company and everything below it). The server decides in the
 * end; this only hides what would be refused.
 */
export function useCan(): (permission: Permission, companyId?: string | null) => boolean {
  const { me } = useSession();
  const directory = useDirectory();
  const grants = me.permissions;
  const isWithin = directory.isWithin;
  return useCallback(
    (permission: Permission, companyId?: string | null) =>
      grants.some(
        (g) =>
          g.permission === permission && (!companyId || g.companyId === companyId || isWithin(companyId, g.companyId)),
      ),
    [grants, isWithin],
  );
}

/** Nav and pages ask by permission; this keeps the list in one place. */
export function usePermissionSet(): Set<string> {
  const { me } = useSession();
  return useMemo(() => new Set(me.permissions.map((p) => p.permission)), [me.permissions]);
}
