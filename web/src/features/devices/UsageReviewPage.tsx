import './devices.css';
import { useState, type FormEvent } from 'react';
import {
  api,
  ApiError,
  type Person,
  type SealUsageRegisterCheck,
  type SealUsageReviewDetail,
  type SealUsageReviewItem,
} from '../../api';
import { useQuery } from '../../hooks';
import { useI18n } from '../../i18n';
import { Link, navigate } from '../../router';
import { usePermissionSet, useSession } from '../../session';
import { CompanySelect } from '../companies/CompanySelect';
import { SealPicker, type SealChoice } from '../seals/SealPicker';
import { LoadState, PageHeader } from '../../ui/PageHeader';
import { PersonPicker } from '../../ui/PersonPicker';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { DevicesTextProvider, useDevicesText } from './i18n';
import { dayStart, isoDay } from './UsagePage';

/** The roles that carry seals.read: the people a review may be given to (the server checks their scope). */
const REVIEWER_ROLES = ['seal_admin', 'security_auditor'] as const;

const daysAgo = (n: number) => {
  const date = new Date();
  date.setDate(date.getDate() - n);
  return isoDay(date);
};

/** A review's period as the days it covers: `to` is the start of the day after the last. */
const periodText = (i18n: ReturnType<typeof useI18n>, from: string, to: string) =>
  `${i18n.formatDate(from, false)} – ${i18n.formatDate(new Date(Date.parse(to) - 1), false)}`;

/**
 * Sampling reviews of usage records (抽查, issue 16 §9): a seal administrator draws N records of a
 * company or a seal over a period for a reviewer, who confirms or flags each; and a register
 * (contracts or payments, CSV) cross-checked against the records of a period.
 */
export function UsageReviewsPage() {
  return (
    <DevicesTextProvider>
      <Reviews />
    </DevicesTextProvider>
  );
}

export function UsageReviewPage({ reviewId }: { reviewId: string }) {
  return (
    <DevicesTextProvider>
      <Review reviewId={reviewId} />
    </DevicesTextProvider>
  );
}

function Reviews() {
  const d = useDevicesText();
  const i18n = useI18n();
  const { me } = useSession();
  const reviews = useQuery(['UsageReviews.list'], (signal) => api.usageReviews({ limit: 100 }, signal));
  const items = reviews.data?.items ?? [];
  return (
    <>
      <PageHeader
        title={d('review.title')}
        subtitle={d('review.subtitle')}
        actions={
          <Link to="/seal-usage" className="button">
            {d('usage.title')}
          </Link>
        }
      />
      <StartReview onStarted={(id) => navigate(`/seal-usage/reviews/${id}`)} />
      <section className="card" data-testid="review-list">
        <h2>{d('review.list')}</h2>
        <LoadState
          loading={reviews.loading && !reviews.data}
          error={reviews.error}
          empty={false}
          onRetry={reviews.reload}
        />
        {reviews.data && items.length === 0 && <p className="empty">{d('review.noneYet')}</p>}
        {items.length > 0 && (
          <ul className="item-list">
            {items.map((r) => (
              <li key={r.id} data-testid="review-row" data-review={r.id}>
                <div className="role-line">
                  <Link to={`/seal-usage/reviews/${r.id}`}>
                    <strong>{r.companyName}</strong>
                  </Link>
                  <span className={`badge ${r.decided === r.size ? 'badge-ok' : 'badge-muted'}`}>
                    {d('review.progress', { decided: r.decided, size: r.size })}
                  </span>
                  {r.flagged > 0 && (
                    <span className="badge badge-danger">{d('review.flaggedCount', { n: r.flagged })}</span>
                  )}
                  {r.reviewerId === me.user.id && <span className="badge badge-info">{d('review.mine')}</span>}
                </div>
                <span className="muted small cell-break">
                  {periodText(i18n, r.from, r.to)} · {d('review.reviewer')}: {r.reviewerName}
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <RegisterCheck />
    </>
  );
}

/** The people who hold a role carrying seals.read somewhere: who a review may be given to. */
function useReviewerCandidates(enabled: boolean) {
  return useQuery(
    ['UsageReviews.reviewers'],
    async (signal) => {
      const lists = await Promise.all(REVIEWER_ROLES.map((role) => api.roleAssignments({ role }, signal)));
      const people = new Map<string, Person & { detail?: string }>();
      for (const a of lists.flatMap((l) => l.items))
        if (!people.has(a.userId)) people.set(a.userId, { id: a.userId, name: a.userName, detail: a.companyName });
      return [...people.values()];
    },
    { enabled },
  );
}

function StartReview({ onStarted }: { onStarted: (id: string) => void }) {
  const d = useDevicesText();
  const { t } = useI18n();
  const { me } = useSession();
  const permissions = usePermissionSet();
  const candidates = useReviewerCandidates(permissions.has('org.read'));
  const [companyId, setCompanyId] = useState(me.company.id);
  const [seal, setSeal] = useState<SealChoice | null>(null);
  const [from, setFrom] = useState(() => daysAgo(30));
  const [to, setTo] = useState(() => isoDay(new Date()));
  const [size, setSize] = useState('10');
  const [reviewer, setReviewer] = useState<Person | null>(null);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiError | null>(null);
  const fromIso = dayStart(from);
  const toIso = dayStart(to, true);
  const n = Number(size);
  const valid = !!companyId && !!fromIso && !!toIso && Number.isInteger(n) && n >= 1 && n <= 200 && !!reviewer;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!valid || !fromIso || !toIso || !reviewer) return;
    setBusy(true);
    setFailure(null);
    try {
      const review = await api.startUsageReview({
        companyId,
        ...(seal ? { sealId: seal.id } : {}),
        from: fromIso,
        to: toIso,
        size: n,
        reviewerId: reviewer.id,
      });
      onStarted(review.id);
    } catch (error) {
      setFailure(error instanceof ApiError ? error : null);
      setBusy(false);
    }
  };
  const all = candidates.data ?? [];
  return (
    <section className="card" data-testid="review-start">
      <h2>{d('review.start')}</h2>
      <p className="muted small">{d('review.startHint')}</p>
      <form onSubmit={(e) => void submit(e)}>
        <div className="usage-filter-grid">
          <label className="toolbar-field">
            <span>{d('usage.company')}</span>
            <CompanySelect value={companyId} onChange={setCompanyId} data-testid="review-company" />
          </label>
          <label className="toolbar-field">
            <span>{d('usage.from')}</span>
            <input
              type="date"
              className="input"
              value={from}
              onChange={(e) => setFrom(e.target.value)}
              data-testid="review-from"
            />
          </label>
          <label className="toolbar-field">
            <span>{d('usage.to')}</span>
            <input
              type="date"
              className="input"
              value={to}
              onChange={(e) => setTo(e.target.value)}
              data-testid="review-to"
            />
          </label>
          <label className="toolbar-field">
            <span>{d('review.size')}</span>
            <input
              type="number"
              className="input"
              min={1}
              max={200}
              value={size}
              onChange={(e) => setSize(e.target.value)}
              data-testid="review-size"
            />
          </label>
        </div>
        <div className="usage-filter-grid">
          <div className="toolbar-field">
            <span>
              {d('usage.seal')} <span className="muted small">({t('common.optional')})</span>
            </span>
            <SealPicker value={seal} onChange={setSeal} testId="review-seal" />
          </div>
          <div className="toolbar-field">
            <span>{d('review.reviewer')}</span>
            <PersonPicker
              value={reviewer}
              onChange={setReviewer}
              canSearch={permissions.has('org.read')}
              known={(reviewer ? [reviewer, ...all] : all).slice(0, 20)}
              exclude={[me.user.id]}
              search={(q) =>
                Promise.resolve(all.filter((p) => p.name.toLowerCase().includes(q.toLowerCase())).slice(0, 20))
              }
              testId="review-reviewer"
            />
          </div>
        </div>
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={busy || !valid} data-testid="review-submit">
            {d('review.draw')}
          </button>
        </div>
        <ProblemMessage error={failure} testId="review-start-problem" />
      </form>
    </section>
  );
}

function Review({ reviewId }: { reviewId: string }) {
  const d = useDevicesText();
  const i18n = useI18n();
  const { me } = useSession();
  const review = useQuery(['UsageReview', reviewId], (signal) => api.usageReview(reviewId, signal));
  const r = review.data;
  const isReviewer = r?.reviewerId === me.user.id;
  return (
    <>
      <PageHeader
        title={d('review.one')}
        subtitle={r ? `${r.companyName} · ${periodText(i18n, r.from, r.to)}` : undefined}
        actions={
          <Link to="/seal-usage/reviews" className="button">
            {d('review.title')}
          </Link>
        }
      />
      <LoadState loading={review.loading && !r} error={review.error} empty={false} onRetry={review.reload} />
      {r && (
        <section className="card" data-testid="review-detail" data-decided={r.decided} data-flagged={r.flagged}>
          <p className="muted small" data-testid="review-summary">
            {d('review.summary', { size: r.size, population: r.population, reviewer: r.reviewerName })} ·{' '}
            {d('review.progress', { decided: r.decided, size: r.size })}
            {r.flagged > 0 && ` · ${d('review.flaggedCount', { n: r.flagged })}`}
          </p>
          {!isReviewer && <p className="muted small">{d('review.onlyReviewer', { name: r.reviewerName })}</p>}
          <ol className="item-list review-items">
            {r.items.map((item) => (
              <ReviewItem
                key={item.position}
                reviewId={r.id}
                item={item}
                canDecide={isReviewer && item.decision === null && item.userId !== me.user.id}
                onDecided={(next) => review.setData(next)}
              />
            ))}
          </ol>
        </section>
      )}
    </>
  );
}

function ReviewItem({
  reviewId,
  item,
  canDecide,
  onDecided,
}: {
  reviewId: string;
  item: SealUsageReviewItem;
  canDecide: boolean;
  onDecided: (review: SealUsageReviewDetail) => void;
}) {
  const d = useDevicesText();
  const i18n = useI18n();
  const [comment, setComment] = useState('');
  const [missing, setMissing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiError | null>(null);
  const decide = async (decision: 'confirmed' | 'flagged') => {
    const text = comment.trim();
    // A flag says what is wrong: the server refuses one without a comment, and so does the form.
    if (decision === 'flagged' && !text) {
      setMissing(true);
      return;
    }
    setMissing(false);
    setBusy(true);
    setFailure(null);
    try {
      onDecided(await api.decideUsageReviewItem(reviewId, item.position, { decision, comment: text || null }));
    } catch (error) {
      setFailure(error instanceof ApiError ? error : null);
    } finally {
      setBusy(false);
    }
  };
  return (
    <li data-testid="review-item" data-position={item.position} data-decision={item.decision ?? 'open'}>
      <div className="role-line">
        <strong>
          {item.position}. {item.sealName}
        </strong>
        <span className="muted small">{item.userName}</span>
        {item.decision === 'confirmed' && <span className="badge badge-ok">{d('review.confirmed')}</span>}
        {item.decision === 'flagged' && <span className="badge badge-danger">{d('review.flagged')}</span>}
        {item.decision === null && <span className="badge badge-muted">{d('review.open')}</span>}
      </div>
      <span className="muted small cell-break">
        {i18n.formatDate(item.at)} · {item.kind === 'electronic' ? d('usage.electronic') : d('usage.physical')} ·{' '}
        <span className="mono">{item.kind === 'electronic' ? `${item.reference.slice(0, 12)}…` : item.reference}</span>
        {item.applicationId && (
          <>
            {' · '}
            <Link to={`/applications/${item.applicationId}`}>{d('usage.application')}</Link>
          </>
        )}
      </span>
      {item.decision !== null && item.comment && (
        <p className="small review-item-comment" data-testid="review-item-comment">
          {item.comment}
        </p>
      )}
      {canDecide && (
        <div className="review-decide">
          <label className="toolbar-field">
            <span>{d('review.comment')}</span>
            <textarea
              className={`input${missing ? ' invalid' : ''}`}
              rows={2}
              maxLength={1000}
              value={comment}
              aria-invalid={missing}
              onChange={(e) => {
                setComment(e.target.value);
                if (e.target.value.trim()) setMissing(false);
              }}
              data-testid="review-comment"
            />
          </label>
          {missing && (
            <p className="field-error" role="alert" data-testid="review-comment-missing">
              {d('review.flagNeedsComment')}
            </p>
          )}
          <div className="form-actions">
            <button
              type="button"
              className="button button-small"
              disabled={busy}
              onClick={() => void decide('flagged')}
              data-testid="review-flag"
            >
              {d('review.flag')}
            </button>
            <button
              type="button"
              className="button button-primary button-small"
              disabled={busy}
              onClick={() => void decide('confirmed')}
              data-testid="review-confirm"
            >
              {d('review.confirm')}
            </button>
          </div>
          <ProblemMessage error={failure} testId="review-decide-problem" />
        </div>
      )}
    </li>
  );
}

/**
 * A register (contracts or payments, UTF-8 CSV with number and date columns) checked against the
 * usage records of a company over a period: rows no record answers, records no row answers. Nothing
 * is stored; a bad file is answered with its lines' problems.
 */
function RegisterCheck() {
  const d = useDevicesText();
  const i18n = useI18n();
  const { me } = useSession();
  const [file, setFile] = useState<File | null>(null);
  const [companyId, setCompanyId] = useState(me.company.id);
  const [from, setFrom] = useState(() => daysAgo(30));
  const [to, setTo] = useState(() => isoDay(new Date()));
  const [tolerance, setTolerance] = useState('7');
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [result, setResult] = useState<SealUsageRegisterCheck | null>(null);
  const fromIso = dayStart(from);
  const toIso = dayStart(to, true);
  const days = Number(tolerance);
  const valid = !!file && !!companyId && !!fromIso && !!toIso && Number.isInteger(days) && days >= 0 && days <= 60;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!valid || !file || !fromIso || !toIso) return;
    setBusy(true);
    setFailure(null);
    setResult(null);
    try {
      setResult(await api.checkUsageRegister({ companyId, from: fromIso, to: toIso, toleranceDays: days }, file));
    } catch (error) {
      setFailure(error instanceof ApiError ? error : null);
    } finally {
      setBusy(false);
    }
  };
  const lineErrors = (failure?.problem.errors ?? []).filter((e) => e.field.startsWith('body.line'));
  return (
    <section className="card" data-testid="register-check">
      <h2>{d('register.title')}</h2>
      <p className="muted small">{d('register.hint')}</p>
      <form onSubmit={(e) => void submit(e)}>
        <div className="usage-filter-grid">
          <label className="toolbar-field">
            <span>{d('register.file')}</span>
            <input
              type="file"
              className="input"
              accept=".csv,text/csv"
              onChange={(e) => setFile(e.target.files?.[0] ?? null)}
              data-testid="register-file"
            />
          </label>
          <label className="toolbar-field">
            <span>{d('usage.company')}</span>
            <CompanySelect value={companyId} onChange={setCompanyId} data-testid="register-company" />
          </label>
        </div>
        <div className="usage-filter-grid">
          <label className="toolbar-field">
            <span>{d('usage.from')}</span>
            <input
              type="date"
              className="input"
              value={from}
              onChange={(e) => setFrom(e.target.value)}
              data-testid="register-from"
            />
          </label>
          <label className="toolbar-field">
            <span>{d('usage.to')}</span>
            <input
              type="date"
              className="input"
              value={to}
              onChange={(e) => setTo(e.target.value)}
              data-testid="register-to"
            />
          </label>
          <label className="toolbar-field">
            <span>{d('register.tolerance')}</span>
            <input
              type="number"
              className="input"
              min={0}
              max={60}
              value={tolerance}
              onChange={(e) => setTolerance(e.target.value)}
              data-testid="register-tolerance"
            />
          </label>
        </div>
        <div className="form-actions">
          <button
            type="submit"
            className="button button-primary"
            disabled={busy || !valid}
            data-testid="register-submit"
          >
            {d('register.submit')}
          </button>
        </div>
      </form>
      <ProblemMessage error={failure} testId="register-problem" />
      {lineErrors.length > 0 && (
        <ul className="register-errors" data-testid="register-errors">
          {lineErrors.map((e, i) => (
            <li key={`${e.field}|${i}`} data-testid="register-error">
              <strong>{d('register.line', { n: e.field.replace('body.line ', '') })}</strong> {e.message}
            </li>
          ))}
        </ul>
      )}
      {result && (
        <div data-testid="register-result">
          <p className="muted small" data-testid="register-summary">
            {d('register.summary', { rows: result.rows, records: result.records, matched: result.matched.length })}
          </p>
          <div className="usage-columns">
            <section data-testid="register-rows-without" data-count={result.rowsWithoutRecord.length}>
              <h3>
                {d('register.rowsWithout')} <span className="muted small">({result.rowsWithoutRecord.length})</span>
              </h3>
              {result.rowsWithoutRecord.length === 0 ? (
                <p className="empty">{d('register.allAnswered')}</p>
              ) : (
                <ul className="item-list">
                  {result.rowsWithoutRecord.map((row) => (
                    <li key={row.line} data-testid="register-row">
                      <strong className="mono">{row.number}</strong>{' '}
                      <span className="muted small cell-break">
                        {row.date}
                        {row.counterparty && ` · ${row.counterparty}`}
                        {row.amount && ` · ${row.amount}`} · {d('register.line', { n: row.line })}
                      </span>
                    </li>
                  ))}
                </ul>
              )}
            </section>
            <section data-testid="register-records-without" data-count={result.recordsWithoutRow.length}>
              <h3>
                {d('register.recordsWithout')} <span className="muted small">({result.recordsWithoutRow.length})</span>
              </h3>
              {result.recordsWithoutRow.length === 0 ? (
                <p className="empty">{d('register.allAnswered')}</p>
              ) : (
                <ul className="item-list">
                  {result.recordsWithoutRow.map((r) => (
                    <li key={r.recordId} data-testid="register-record">
                      <strong>{r.sealName}</strong> <span className="muted small">{r.userName}</span>
                      <span className="muted small cell-break">
                        {' '}
                        {i18n.formatDate(r.at)} · <span className="mono">{r.reference.slice(0, 24)}</span>
                        {r.applicationId && (
                          <>
                            {' · '}
                            <Link to={`/applications/${r.applicationId}`}>{d('usage.application')}</Link>
                          </>
                        )}
                      </span>
                    </li>
                  ))}
                </ul>
              )}
            </section>
          </div>
          <p className="muted small">{result.rule}</p>
        </div>
      )}
    </section>
  );
}
