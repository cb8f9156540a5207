import { useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback } from 'react';
import { api, type Department } from '../../api';

/**
 * The departments of a company, kept per company for the session in its query store (user rows
 * carry only a department id; several pages name them).
 */
const departmentsQuery = (companyId: string) => ({
  queryKey: ['departments', companyId] as const,
  queryFn: ({ signal }: { signal: AbortSignal }) => api.departments({ companyId }, signal).then((r) => r.items),
});

/** Forget the kept departments of a company (after one is created or renamed), or of all. */
export function useForgetDepartments(): (companyId?: string) => void {
  const client = useQueryClient();
  return useCallback(
    (companyId?: string) =>
      void client.invalidateQueries({ queryKey: companyId ? ['departments', companyId] : ['departments'] }),
    [client],
  );
}

/** Department names by id, for the companies a page shows. */
export function useDepartmentNames(companyIds: string[]): Map<string, string> {
  const ids = [...new Set(companyIds)].sort();
  const lists = useQueries({ queries: ids.map((id) => departmentsQuery(id)) });
  return new Map(lists.flatMap((list) => (list.data ?? []).map((d) => [d.id, d.name] as const)));
}

export function useDepartments(companyId: string | null | undefined): Department[] {
  const list = useQuery({ ...departmentsQuery(companyId ?? ''), enabled: Boolean(companyId) });
  return companyId ? (list.data ?? []) : [];
}
