import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { api } from '../../api';
import { useLocation } from '../../router';

/**
 * The unread-notification count the header bell shows: asked for when the console
 * opens, on every navigation, every POLL_MS while the tab is visible, when the tab comes
 * back, and whenever a page changes what is read (`refresh`).
 */
const POLL_MS = 30_000;

interface Unread {
  count: number;
  refresh(): void;
}

const UnreadContext = createContext<Unread>({ count: 0, refresh: () => {} });

export function useUnread(): Unread {
  return useContext(UnreadContext);
}

export function UnreadProvider({ children }: { children: ReactNode }) {
  const [count, setCount] = useState(0);
  const [version, setVersion] = useState(0);
  const refresh = useCallback(() => setVersion((v) => v + 1), []);
  const { path } = useLocation();

  useEffect(() => {
    const controller = new AbortController();
    api.unreadCount(controller.signal).then(
      (r) => setCount(r.count),
      () => undefined,
    );
    return () => controller.abort();
  }, [version, path]);

  useEffect(() => {
    const tick = () => {
      if (document.visibilityState === 'visible') refresh();
    };
    const timer = setInterval(tick, POLL_MS);
    document.addEventListener('visibilitychange', tick);
    return () => {
      clearInterval(timer);
      document.removeEventListener('visibilitychange', tick);
    };
  }, [refresh]);

  const value = useMemo(() => ({ count, refresh }), [count, refresh]);
  return <UnreadContext.Provider value={value}>{children}</UnreadContext.Provider>;
}
