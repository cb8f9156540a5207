import { useEffect, useState } from 'react';
import { api, type Person } from '../api';
import { useQuery } from '../hooks';
import { useI18n } from '../i18n';
import { Icon } from './Icons';

/**
 * Chooses one person. With `canSearch` (org.read) it searches the directory by name,
 * e-mail or phone; without it, it offers only the `known` people (e.g. those already on
 * an application), so a person without directory access still gets a useful choice.
 * `search` replaces the directory with a search of its own (e.g. the people who may take a task).
 */
export function PersonPicker({
  value,
  onChange,
  canSearch,
  known = [],
  knownLabel,
  exclude = [],
  id,
  testId = 'person-picker',
  invalid,
  search,
}: {
  value: Person | null;
  onChange: (person: Person | null) => void;
  canSearch: boolean;
  known?: Person[];
  knownLabel?: string;
  exclude?: string[];
  id?: string;
  testId?: string;
  invalid?: boolean;
  search?: (q: string, signal: AbortSignal) => Promise<Array<Person & { detail?: string }>>;
}) {
  const { t } = useI18n();
  const [text, setText] = useState('');
  const [q, setQ] = useState('');

  useEffect(() => {
    const timer = setTimeout(() => setQ(text.trim()), 250);
    return () => clearTimeout(timer);
  }, [text]);

  const results = useQuery(['PersonPicker.results', testId, search ? 'own' : 'directory', canSearch, q], (signal) =>
    canSearch && q
      ? search
        ? search(q, signal)
        : api
            .users({ q, status: 'active', limit: 20 }, signal)
            .then((page) => page.items.map((u) => ({ id: u.id, name: u.name, detail: u.email })))
      : Promise.resolve(null),
  );
  const excluded = new Set(exclude);
  const knownChoices = known.filter(
    (p, index) => !excluded.has(p.id) && known.findIndex((o) => o.id === p.id) === index,
  );
  const found = (results.data ?? []).filter((p) => !excluded.has(p.id));

  const option = (person: Person & { detail?: string }) => {
    const chosen = value?.id === person.id;
    return (
      <li key={person.id}>
        <button
          type="button"
          className={`person-option${chosen ? ' chosen' : ''}`}
          aria-pressed={chosen}
          onClick={() => onChange(chosen ? null : { id: person.id, name: person.name })}
          data-testid="person-option"
          data-person={person.id}
        >
          <span className="avatar" aria-hidden="true">
            {person.name.slice(0, 1).toUpperCase()}
          </span>
          <span className="person-text">
            <span className="person-name">{person.name}</span>
            {person.detail && <span className="muted small cell-break">{person.detail}</span>}
          </span>
          {chosen && <Icon name="check" size={18} className="person-check" />}
        </button>
      </li>
    );
  };

  return (
    <div className={`person-picker${invalid ? ' invalid' : ''}`} data-testid={testId}>
      {canSearch ? (
        <>
          <div className="search-box">
            <Icon name="search" size={16} />
            <input
              id={id}
              type="search"
              className="input"
              value={text}
              onChange={(e) => setText(e.target.value)}
              placeholder={t('people.placeholder')}
              aria-label={t('people.search')}
              autoComplete="off"
              data-testid={`${testId}-search`}
            />
          </div>
          {q && !results.loading && found.length === 0 && <p className="muted small picker-note">{t('people.none')}</p>}
          {found.length > 0 && <ul className="person-list">{found.map(option)}</ul>}
          {!q && knownChoices.length === 0 && <p className="muted small picker-note">{t('people.typeToSearch')}</p>}
        </>
      ) : (
        knownChoices.length === 0 && <p className="muted small picker-note">{t('people.noDirectory')}</p>
      )}
      {knownChoices.length > 0 && (!canSearch || !q) && (
        <>
          {knownLabel && <p className="picker-label">{knownLabel}</p>}
          <ul className="person-list">{knownChoices.map(option)}</ul>
        </>
      )}
      {value && !found.some((p) => p.id === value.id) && !knownChoices.some((p) => p.id === value.id) && (
        <p className="picker-chosen" data-testid={`${testId}-chosen`}>
          <Icon name="check" size={16} />
          {t('people.chosen', { name: value.name })}
        </p>
      )}
    </div>
  );
}
