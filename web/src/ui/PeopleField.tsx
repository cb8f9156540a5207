import { useMemo } from 'react';
import { api, type Person } from '../api';
import { useDirectory } from '../features/users/directory';
import { useQuery } from '../hooks';
import { useI18n } from '../i18n';
import { usePermissionSet } from '../session';
import { Icon } from './Icons';
import { PersonPicker } from './PersonPicker';

/**
 * The seal administrators who may keep a seal of `companyId`: those whose role covers that
 * company (it or a company above it). Custodians must be such people; the server checks again.
 */
export function useSealAdminsOver(companyId: string | null | undefined): Person[] {
  const canRead = usePermissionSet().has('org.read');
  const directory = useDirectory();
  const holders = useQuery(['PeopleField.holders', canRead], (signal) =>
    canRead ? api.roleAssignments({ role: 'seal_admin' }, signal) : Promise.resolve(null),
  );
  return useMemo(() => {
    if (!companyId) return [];
    const seen = new Map<string, Person>();
    for (const a of holders.data?.items ?? []) {
      if (a.companyId === companyId || directory.isWithin(companyId, a.companyId))
        seen.set(a.userId, { id: a.userId, name: a.userName });
    }
    return [...seen.values()].sort((a, b) => a.name.localeCompare(b.name, 'zh-CN'));
  }, [holders.data, companyId, directory]);
}

/** Several people (custodians): the chosen ones as chips, and a picker that adds one more. */
export function PeopleField({
  label,
  hint,
  error,
  value,
  onChange,
  known,
  knownLabel,
  max = 5,
  testId = 'people-field',
}: {
  label: string;
  hint?: string;
  error?: string | undefined;
  value: Person[];
  onChange: (people: Person[]) => void;
  known?: Person[];
  knownLabel?: string;
  max?: number;
  testId?: string;
}) {
  const { t, fieldText } = useI18n();
  const canSearch = usePermissionSet().has('org.read');
  return (
    <div className={`field${error ? ' field-invalid' : ''}`} data-testid={testId}>
      <span className="field-label">{label}</span>
      {value.length > 0 && (
        <ul className="people people-chosen">
          {value.map((p) => (
            <li key={p.id} className="person-chip" data-testid={`${testId}-chosen`}>
              {p.name}
              <button
                type="button"
                className="chip-remove"
                onClick={() => onChange(value.filter((x) => x.id !== p.id))}
                aria-label={t('people.remove', { name: p.name })}
              >
                <Icon name="close" size={14} />
              </button>
            </li>
          ))}
        </ul>
      )}
      {value.length < max && (
        <PersonPicker
          value={null}
          onChange={(p) => p && !value.some((x) => x.id === p.id) && onChange([...value, p])}
          canSearch={canSearch}
          known={known ?? []}
          {...(knownLabel ? { knownLabel } : {})}
          exclude={value.map((p) => p.id)}
          invalid={Boolean(error)}
          testId={`${testId}-picker`}
        />
      )}
      {error ? <p className="field-error">{fieldText(error)}</p> : hint ? <p className="field-hint">{hint}</p> : null}
    </div>
  );
}
