import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, type ReactNode } from 'react';
import { api } from '../../api';
import { useLocation } from '../../router';

/**
 * The unread-notification count the header bell shows: asked for when the console opens, on every
 * navigation, every POLL_MS while the tab is visible, when the tab comes back, and whenever a page
 * changes what is read (`refresh`).
 */
const POLL_MS = 30_000;
const UNREAD = ['notifications', 'unread-count'] as const;

interface Unread {
  count: number;
  refresh(): void;
}

const UnreadContext = createContext<Unread>({ count: 0, refresh: () => {} });

export function useUnread(): Unread {
  return useContext(UnreadContext);
}

export function UnreadProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const { path } = useLocation();
  const unread = useQuery({
    queryKey: UNREAD,
    queryFn: ({ signal }) => api.unreadCount(signal),
    refetchInterval: POLL_MS,
    refetchOnWindowFocus: true,
  });
  const refresh = useCallback(() => void client.invalidateQueries({ queryKey: UNREAD }), [client]);
  useEffect(refresh, [path, refresh]);
  const count = unread.data?.count ?? 0;
  const value = useMemo(() => ({ count, refresh }), [count, refresh]);
  return <UnreadContext.Provider value={value}>{children}</UnreadContext.Provider>;
}
