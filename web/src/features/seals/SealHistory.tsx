import type { SealCard } from '../../api';
import { actionName, categoryName, listOf, useI18n, type I18n } from '../../i18n';
import { Link } from '../../router';

type Entry = SealCard['history'][number];

/** A short line saying what an event did: the step and its application, the categories granted, the reason given. */
function detail(i18n: I18n, entry: Entry) {
  const c = entry.changes;
  if (entry.action === 'seal.lifecycle_applied') {
    const step = typeof c.step === 'string' ? i18n.tx(`lifecycle.step.${c.step}`, c.step) : '';
    return (
      <>
        {step}
        {typeof c.applicationId === 'string' && (
          <>
            {' · '}
            <Link to={`/applications/${c.applicationId}`} data-testid="history-application">
              {i18n.t('lifecycle.application')}
            </Link>
          </>
        )}
      </>
    );
  }
  if (entry.action === 'seal.grant_created' && Array.isArray(c.categories)) {
    return listOf(
      i18n,
      c.categories.map((x) => categoryName(i18n, String(x))),
    );
  }
  if (entry.action === 'seal.grant_revoked' && typeof c.reason === 'string' && c.reason) return c.reason;
  if (entry.action === 'document.signed')
    return (
      [
        typeof c.level === 'string' ? c.level : null,
        typeof c.category === 'string' ? categoryName(i18n, c.category) : null,
      ]
        .filter(Boolean)
        .join(' · ') || null
    );
  if (entry.action.startsWith('pki.') && typeof c.serial === 'string') {
    const serial = i18n.t('history.serial', { serial: c.serial.length > 16 ? `${c.serial.slice(0, 16)}…` : c.serial });
    return typeof c.reason === 'string' ? `${serial} · ${c.reason}` : serial;
  }
  return null;
}

/** 变更记录: every recorded event of the seal, newest first. */
export function SealHistory({ history }: { history: SealCard['history'] }) {
  const i18n = useI18n();
  if (history.length === 0) return null;
  const entries = [...history].sort((a, b) => b.seq - a.seq);
  return (
    <section className="card" data-testid="seal-history">
      <h2>{i18n.t('seal.history')}</h2>
      <ul className="item-list history-list">
        {entries.map((h) => {
          const more = detail(i18n, h);
          return (
            <li key={h.seq} data-testid="history-entry" data-action={h.action}>
              <span className="history-body">
                <strong>{actionName(i18n, h.action)}</strong>
                {h.actorName && <span className="muted"> · {h.actorName}</span>}
                {more && <span className="muted small history-detail">{more}</span>}
              </span>
              <span className="muted small nowrap">{i18n.formatDate(h.occurredAt)}</span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
