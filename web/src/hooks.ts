import {
  isCancelledError,
  keepPreviousData,
  QueryClient,
  QueryClientContext,
  useQuery as useTanstackQuery,
  useQueryClient,
  type QueryKey,
} from '@tanstack/react-query';
import { useCallback, useContext, useEffect, useRef, useState } from 'react';
import { ApiError } from './api';

export interface QueryState<T> {
  data: T | undefined;
  error: ApiError | null;
  loading: boolean;
  reload(): void;
  setData(update: T | ((previous: T | undefined) => T)): void;
}

function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  return new ApiError({
    status: 0,
    code: 'internal_error',
    detail: error instanceof Error ? error.message : String(error),
  });
}

/**
 * Server state through TanStack Query: `key` names what is asked (the page and its part, then every
 * value the answer depends on), `load` asks the server. Answers are kept per key for the session
 * (SignedIn's QueryClient), a newer key keeps showing the previous answer until its own arrives,
 * and a superseded request is cancelled through `signal`, so late answers never win.
 */
export function useQuery<T>(
  key: QueryKey,
  load: (signal: AbortSignal) => Promise<T>,
  options: { enabled?: boolean } = {},
): QueryState<T> {
  const client = useQueryClient();
  const query = useTanstackQuery<T, ApiError>({
    queryKey: key,
    enabled: options.enabled ?? true,
    queryFn: ({ signal }) => load(signal).catch((failure: unknown) => Promise.reject(asApiError(failure))),
    placeholderData: keepPreviousData,
  });
  const { refetch } = query;
  const reload = useCallback(() => void refetch(), [refetch]);
  const keyRef = useRef(key);
  keyRef.current = key;
  const setData = useCallback(
    (update: T | ((previous: T | undefined) => T)) => client.setQueryData<T>(keyRef.current, update),
    [client],
  );
  // A request cancelled because a newer one replaced it is no problem to show; anything else is an ApiError.
  const failure = query.error;
  const error = failure && !isCancelledError(failure) ? asApiError(failure) : null;
  return { data: query.data, error, loading: query.isFetching, reload, setData };
}

/**
 * The session's store of server state: nothing kept is shared with the next person to sign in on
 * this browser (one client per session). A request is tried again only when the server could not be
 * reached; a problem it answered with is shown at once.
 */
export function newQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        retry: (failures, error) => error instanceof ApiError && error.status === 0 && failures < 2,
        refetchOnWindowFocus: false,
      },
      mutations: { retry: false },
    },
  });
}

export interface MutationState<A extends unknown[], R> {
  run(...args: A): Promise<R | undefined>;
  busy: boolean;
  error: ApiError | null;
  reset(): void;
}

/**
 * After a change, nothing kept may be shown as if it were current: answers of pages not on screen
 * are dropped (the next visit asks again, rather than showing the old count first), and those on
 * screen are asked again. Changes are rare beside reads; correctness beats a warm cache here.
 */
function afterChange(client: QueryClient | undefined): void {
  if (!client) return;
  client.removeQueries({ type: 'inactive' });
  void client.invalidateQueries({ type: 'active' });
}

/**
 * Runs a change against the API, keeping its busy flag and the problem it answered with; once it
 * succeeds, the session's kept answers are renewed (`afterChange`). Outside a session (signing in)
 * there is nothing kept.
 */
export function useMutation<A extends unknown[], R>(
  action: (...args: A) => Promise<R>,
  onSuccess?: (result: R) => void,
): MutationState<A, R> {
  const client = useContext(QueryClientContext);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const actionRef = useRef(action);
  actionRef.current = action;
  const successRef = useRef(onSuccess);
  successRef.current = onSuccess;

  const run = useCallback(
    async (...args: A): Promise<R | undefined> => {
      setBusy(true);
      setError(null);
      try {
        const result = await actionRef.current(...args);
        afterChange(client);
        successRef.current?.(result);
        return result;
      } catch (failure) {
        setError(asApiError(failure));
        return undefined;
      } finally {
        setBusy(false);
      }
    },
    [client],
  );
  const reset = useCallback(() => setError(null), []);
  return { run, busy, error, reset };
}

/** True below the phone breakpoint; follows rotation and window resizes. */
export function useIsPhone(): boolean {
  const query = '(max-width: 720px)';
  const [matches, setMatches] = useState(() => window.matchMedia(query).matches);
  useEffect(() => {
    const list = window.matchMedia(query);
    const update = () => setMatches(list.matches);
    list.addEventListener('change', update);
    return () => list.removeEventListener('change', update);
  }, []);
  return matches;
}
