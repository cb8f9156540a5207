import { useEffect, useState } from 'react';
import { api } from '../../api';
import { useQuery } from '../../hooks';
import { sealTypeName, useI18n } from '../../i18n';
import { Icon } from '../../ui/Icons';

export interface SealChoice {
  id: string;
  name: string;
  code: string;
}

/** Finds one seal of the library by name or code. */
export function SealPicker({
  value,
  onChange,
  testId = 'seal-picker',
}: {
  value: SealChoice | null;
  onChange: (seal: SealChoice | null) => void;
  testId?: string;
}) {
  const i18n = useI18n();
  const { t } = i18n;
  const [text, setText] = useState('');
  const [q, setQ] = useState('');
  useEffect(() => {
    const timer = setTimeout(() => setQ(text.trim()), 250);
    return () => clearTimeout(timer);
  }, [text]);
  const found = useQuery(['SealPicker.found', q], (signal) =>
    q ? api.seals({ q, limit: 10 }, signal) : Promise.resolve(null),
  );
  const items = found.data?.items ?? [];

  return (
    <div className="person-picker" data-testid={testId}>
      <div className="search-box">
        <Icon name="search" size={16} />
        <input
          type="search"
          className="input"
          value={text}
          onChange={(e) => setText(e.target.value)}
          placeholder={t('seal.searchPlaceholder')}
          aria-label={t('report.findSeal')}
          autoComplete="off"
          data-testid={`${testId}-search`}
        />
      </div>
      {q && !found.loading && items.length === 0 && <p className="muted small picker-note">{t('common.noResults')}</p>}
      {items.length > 0 && (
        <ul className="person-list">
          {items.map((s) => {
            const chosen = value?.id === s.id;
            return (
              <li key={s.id}>
                <button
                  type="button"
                  className={`person-option${chosen ? ' chosen' : ''}`}
                  aria-pressed={chosen}
                  onClick={() => {
                    onChange(chosen ? null : { id: s.id, name: s.name, code: s.code });
                    setText('');
                  }}
                  data-testid="seal-option"
                  data-seal={s.id}
                >
                  <Icon name="seal" size={18} className="seal-line-icon" />
                  <span className="person-text">
                    <span className="person-name">{s.name}</span>
                    <span className="muted small cell-break">
                      {s.code} · {sealTypeName(i18n, s.type)} · {s.companyName}
                    </span>
                  </span>
                  {chosen && <Icon name="check" size={18} className="person-check" />}
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
