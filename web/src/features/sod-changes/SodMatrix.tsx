import { useEffect, useMemo, useState } from 'react';
import { api, ROLES, type Role } from '../../api';
import { Link } from '../../router';
import { useMutation, useQuery } from '../../hooks';
import { roleName, useI18n } from '../../i18n';
import { Icon } from '../../ui/Icons';
import { LoadState } from '../../ui/PageHeader';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { useToast } from '../../ui/Toast';

const pairKey = (a: Role, b: Role) => [a, b].sort().join('|');

/** Every unordered pair of distinct roles, in role order. */
const allPairs: Array<[Role, Role]> = ROLES.flatMap((a, i) => ROLES.slice(i + 1).map((b) => [a, b] as [Role, Role]));

/**
 * The separation-of-duties matrix: a grid on desktops, a list of pairs on phones.
 * Head-company system administrators (settings.write) may propose a change, with a reason; it
 * takes effect only when a security auditor approves it, and one proposal waits at a time.
 */
export function SodMatrix({ editable }: { editable: boolean }) {
  const i18n = useI18n();
  const { t } = i18n;
  const notify = useToast();
  const sod = useQuery(['SodMatrix.sod'], (signal) => api.sod(signal));
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState<Set<string>>(new Set());
  const [reason, setReason] = useState('');
  const current = useMemo(() => new Set((sod.data?.pairs ?? []).map(([a, b]) => pairKey(a, b))), [sod.data]);
  useEffect(() => setDraft(new Set(current)), [current]);
  const shown = editing ? draft : current;
  const pending = sod.data?.pending ?? null;

  const save = useMutation(
    () => api.proposeSod({ pairs: allPairs.filter(([a, b]) => draft.has(pairKey(a, b))), reason: reason.trim() }),
    () => {
      setEditing(false);
      setReason('');
      notify(t('sod.proposed'));
      sod.reload();
    },
  );
  const reasonError = save.error?.fieldErrors().reason;

  const toggle = (a: Role, b: Role) =>
    setDraft((previous) => {
      const next = new Set(previous);
      const key = pairKey(a, b);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      return next;
    });

  const cell = (a: Role, b: Role) => {
    if (a === b) return <span className="sod-self">—</span>;
    const clash = shown.has(pairKey(a, b));
    const label = `${roleName(i18n, a)} / ${roleName(i18n, b)}: ${clash ? t('sod.clash') : t('sod.allowed')}`;
    if (editing)
      return (
        <input
          type="checkbox"
          checked={clash}
          onChange={() => toggle(a, b)}
          aria-label={label}
          data-pair={pairKey(a, b)}
        />
      );
    return clash ? (
      <span className="sod-clash" title={label} aria-label={label}>
        <Icon name="close" size={16} />
      </span>
    ) : (
      <span className="sod-ok" title={label} aria-label={label}>
        ·
      </span>
    );
  };

  return (
    <section className="card" data-testid="sod-matrix">
      <div className="card-head">
        <div>
          <h2>{t('sod.title')}</h2>
          <p className="muted small">{t('sod.subtitle')}</p>
        </div>
        {editable && !editing && sod.data && !pending && (
          <button type="button" className="button button-small" onClick={() => setEditing(true)} data-testid="sod-edit">
            {t('sod.edit')}
          </button>
        )}
      </div>
      <LoadState loading={sod.loading} error={sod.error} empty={false} onRetry={sod.reload} />
      {pending && (
        <div className="alert alert-info" role="status" data-testid="sod-pending">
          <Icon name="alert" size={20} className="alert-icon" />
          <div>
            <p>
              {t('sod.pending', { name: pending.proposedBy.name, date: i18n.formatDate(pending.proposedAt) })}{' '}
              <Link to={`/applications/${pending.applicationId}`} data-testid="sod-pending-link">
                {t('sod.viewProposal')}
              </Link>
            </p>
            <p className="muted small">
              {pending.pairs.length === 0
                ? t('sod.proposedNone')
                : t('sod.proposedPairs', {
                    pairs: pending.pairs.map(([a, b]) => `${roleName(i18n, a)} / ${roleName(i18n, b)}`).join('; '),
                  })}
            </p>
          </div>
        </div>
      )}
      {sod.data && (
        <>
          <div className="sod-grid-wrap">
            <table className="sod-grid">
              <thead>
                <tr>
                  <th />
                  {ROLES.map((r) => (
                    <th key={r} scope="col">
                      {roleName(i18n, r)}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {ROLES.map((a) => (
                  <tr key={a}>
                    <th scope="row">{roleName(i18n, a)}</th>
                    {ROLES.map((b) => (
                      <td key={b}>{cell(a, b)}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <ul className="sod-pairs">
            {allPairs.map(([a, b]) => {
              const clash = shown.has(pairKey(a, b));
              return (
                <li key={pairKey(a, b)} className={clash ? 'clash' : undefined}>
                  <span>{t('sod.pair', { a: roleName(i18n, a), b: roleName(i18n, b) })}</span>
                  {editing ? (
                    <input type="checkbox" checked={clash} onChange={() => toggle(a, b)} aria-label={t('sod.clash')} />
                  ) : (
                    <span className={`badge ${clash ? 'badge-danger' : 'badge-muted'}`}>
                      {clash ? t('sod.clash') : t('sod.allowed')}
                    </span>
                  )}
                </li>
              );
            })}
          </ul>
        </>
      )}
      {editing && (
        <>
          <p className="muted small">{t('sod.twoPerson')}</p>
          <label className="field" htmlFor="sod-reason">
            <span className="field-label">{t('sod.reason')}</span>
            <textarea
              id="sod-reason"
              className="input"
              rows={2}
              maxLength={1000}
              value={reason}
              onChange={(e) => setReason(e.target.value)}
              data-testid="sod-reason"
            />
            {reasonError && <span className="field-error">{i18n.fieldText(reasonError)}</span>}
          </label>
          <ProblemMessage error={reasonError ? null : save.error} />
          <div className="form-actions">
            <button
              type="button"
              className="button"
              onClick={() => {
                setDraft(new Set(current));
                setEditing(false);
                save.reset();
              }}
            >
              {t('common.cancel')}
            </button>
            <button
              type="button"
              className="button button-primary"
              disabled={save.busy}
              onClick={() => void save.run()}
              data-testid="sod-save"
            >
              {save.busy ? t('common.saving') : t('sod.propose')}
            </button>
          </div>
        </>
      )}
    </section>
  );
}
