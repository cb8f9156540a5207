import { useEffect, useState } from 'react';
import { api, type Department } from '../../api';

/**
 * Department names for the companies a page shows, fetched once per company.
 * (User rows carry only a department id.)
 */
const cache = new Map<string, Promise<Department[]>>();

export function departmentsOf(companyId: string): Promise<Department[]> {
  let entry = cache.get(companyId);
  if (!entry) {
    entry = api.departments({ companyId }).then((r) => r.items);
    entry.catch(() => cache.delete(companyId));
    cache.set(companyId, entry);
  }
  return entry;
}

/** Forget cached departments (after one is created or renamed). */
export function forgetDepartments(companyId?: string): void {
  if (companyId) cache.delete(companyId);
  else cache.clear();
}

export function useDepartmentNames(companyIds: string[]): Map<string, string> {
  const [names, setNames] = useState<Map<string, string>>(new Map());
  const key = [...new Set(companyIds)].sort().join(',');
  useEffect(() => {
    let live = true;
    const ids = key ? key.split(',') : [];
    Promise.all(ids.map((id) => departmentsOf(id).catch(() => [] as Department[]))).then(
      (lists) => {
        if (!live) return;
        setNames(new Map(lists.flat().map((d) => [d.id, d.name])));
      },
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [key]);
  return names;
}

export function useDepartments(companyId: string | null | undefined): Department[] {
  const [list, setList] = useState<Department[]>([]);
  useEffect(() => {
    let live = true;
    setList([]);
    if (companyId) {
      departmentsOf(companyId).then(
        (items) => live && setList(items),
        () => undefined,
      );
    }
    return () => {
      live = false;
    };
  }, [companyId]);
  return list;
}
