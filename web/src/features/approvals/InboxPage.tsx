import { useState, type FormEvent } from 'react';
import { api, type Delegation, type Person } from '../../api';
import { PurposeTag, TaskStatusBadge } from './ApprovalBadges';
import { Field } from '../../ui/Field';
import { Icon } from '../../ui/Icons';
import { ConfirmDialog } from '../../ui/Modal';
import { LoadState, PageHeader } from '../../ui/PageHeader';
import { PersonPicker } from '../../ui/PersonPicker';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { useToast } from '../../ui/Toast';
import { useMutation, useQuery } from '../../hooks';
import { useI18n } from '../../i18n';
import { href, Link, useLocation } from '../../router';
import { useSession } from '../../session';

/** 审批待办: the tasks waiting for my decision (or those I decided), and my stand-in. */
export function InboxPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const { query } = useLocation();
  const done = query.get('tab') === 'done';
  const tasks = useQuery(['InboxPage.tasks', done], (signal) =>
    api.tasks(done ? { limit: 200 } : { status: 'pending', limit: 200 }, signal),
  );
  const items = (tasks.data?.items ?? []).filter((task) =>
    done ? task.status !== 'pending' : task.status === 'pending',
  );

  return (
    <>
      <PageHeader title={t('inbox.title')} subtitle={t('inbox.subtitle')} />
      <nav className="tabs" aria-label={t('inbox.title')}>
        <Link
          to="/inbox"
          className={!done ? 'active' : undefined}
          aria-current={!done ? 'page' : undefined}
          data-testid="inbox-tab-pending"
        >
          {t('inbox.pending')}
          {!done && tasks.data && items.length > 0 && <span className="tab-count">{items.length}</span>}
        </Link>
        <Link
          to={href('/inbox', { tab: 'done' })}
          className={done ? 'active' : undefined}
          aria-current={done ? 'page' : undefined}
          data-testid="inbox-tab-done"
        >
          {t('inbox.done')}
        </Link>
      </nav>
      <section className="card card-flush">
        <LoadState
          loading={tasks.loading && !tasks.data}
          error={tasks.error}
          empty={items.length === 0}
          onRetry={tasks.reload}
          emptyText={done ? t('inbox.emptyDone') : t('inbox.empty')}
        />
        {items.length > 0 && (
          <ul className="entry-list" data-testid="inbox-list">
            {items.map((task) => (
              <li key={task.id}>
                <Link
                  to={`/applications/${task.applicationId}`}
                  className="entry"
                  data-testid="inbox-task"
                  data-application={task.applicationId}
                  data-task={task.id}
                >
                  <span className="entry-head">
                    <span className="entry-title">{t('inbox.applicant', { name: task.applicantName })}</span>
                    {done ? (
                      <TaskStatusBadge status={task.status} />
                    ) : (
                      <span className="badge badge-info">{t('apply.level', { n: task.level + 1 })}</span>
                    )}
                  </span>
                  <span className="entry-text">{task.reason}</span>
                  <span className="entry-meta">
                    <PurposeTag purpose={task.purpose} category={task.category} />
                    {task.sealNames.length > 0 && <span className="entry-seals">{task.sealNames.join(' · ')}</span>}
                    {task.purpose === 'seal_use' && <span>{t('application.usesCount', { n: task.uses })}</span>}
                    <span>{i18n.formatDate(task.submittedAt)}</span>
                    {task.via === 'delegation' && task.onBehalfOfName && (
                      <span>{t('via.delegation', { name: task.onBehalfOfName })}</span>
                    )}
                    {task.via === 'transfer' && task.onBehalfOfName && (
                      <span>{t('via.transfer', { name: task.onBehalfOfName })}</span>
                    )}
                  </span>
                  <Icon name="chevron" size={16} className="entry-arrow" />
                </Link>
              </li>
            ))}
          </ul>
        )}
      </section>
      <DelegationSection />
    </>
  );
}

function toLocalInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function delegationState(d: Delegation, now: number): 'active' | 'scheduled' | 'over' | 'ended' {
  if (d.revokedAt) return 'ended';
  if (new Date(d.endsAt).getTime() <= now) return 'over';
  if (new Date(d.startsAt).getTime() > now) return 'scheduled';
  return 'active';
}

/** A stand-in (审批代理) for a period: tasks opened then go to them. */
function DelegationSection() {
  const i18n = useI18n();
  const { t } = i18n;
  const { me } = useSession();
  const notify = useToast();
  const list = useQuery(['InboxPage.list'], (signal) => api.delegations(signal));
  const [ending, setEnding] = useState<Delegation | null>(null);
  const [delegate, setDelegate] = useState<Person | null>(null);
  const [startsAt, setStartsAt] = useState(() => toLocalInput(new Date()));
  const [endsAt, setEndsAt] = useState(() => toLocalInput(new Date(Date.now() + 7 * 86_400_000)));
  const [attempted, setAttempted] = useState(false);
  // The server offers those a delegation would accept, so nobody needs the directory to choose.
  const searchCandidates = (q: string, signal: AbortSignal) =>
    api
      .delegationCandidates({ q }, signal)
      .then((page) => page.items.map((p) => ({ id: p.id, name: p.name, detail: p.companyName })));

  const create = useMutation(
    () =>
      api.createDelegation({
        delegateId: delegate!.id,
        startsAt: new Date(startsAt).toISOString(),
        endsAt: new Date(endsAt).toISOString(),
      }),
    (created) => {
      notify(t('delegation.added', { name: created.delegateName }));
      setDelegate(null);
      setAttempted(false);
      list.reload();
    },
  );
  const end = useMutation(
    (d: Delegation) => api.endDelegation(d.id),
    () => {
      notify(t('delegation.endedToast'));
      setEnding(null);
      list.reload();
    },
  );

  const fields = create.error?.fieldErrors() ?? {};
  const rangeWrong = Boolean(startsAt && endsAt && new Date(endsAt) <= new Date(startsAt));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setAttempted(true);
    if (!delegate || rangeWrong || !startsAt || !endsAt) return;
    void create.run();
  };
  const now = Date.now();
  const items = (list.data?.items ?? []).filter(
    (d) => delegationState(d, now) === 'active' || delegationState(d, now) === 'scheduled',
  );
  const pickerError =
    attempted && !delegate ? t('field.choosePerson') : fields.delegateId && i18n.fieldText(fields.delegateId);

  return (
    <section className="card" data-testid="delegations">
      <h2>{t('delegation.title')}</h2>
      <p className="muted small">{t('delegation.subtitle')}</p>
      <LoadState
        loading={list.loading && !list.data}
        error={list.error}
        empty={items.length === 0}
        onRetry={list.reload}
        emptyText={t('delegation.none')}
      />
      {items.length > 0 && (
        <ul className="item-list" data-testid="delegation-list">
          {items.map((d) => {
            const state = delegationState(d, now);
            return (
              <li key={d.id} data-testid="delegation-row">
                <div>
                  <div className="role-line">
                    <strong>{d.delegateName}</strong>
                    <span className={`badge ${state === 'active' ? 'badge-ok' : 'badge-muted'}`}>
                      {t(`delegation.${state}`)}
                    </span>
                  </div>
                  <div className="muted small">
                    {i18n.formatDate(d.startsAt)} – {i18n.formatDate(d.endsAt)}
                  </div>
                </div>
                <button
                  type="button"
                  className="button button-small"
                  onClick={() => setEnding(d)}
                  data-testid="delegation-end"
                >
                  {t('delegation.end')}
                </button>
              </li>
            );
          })}
        </ul>
      )}
      <form className="delegation-form" onSubmit={submit} noValidate>
        <ProblemMessage error={create.error && Object.keys(fields).length === 0 ? create.error : null} />
        <div className={`field${pickerError ? ' field-invalid' : ''}`}>
          <span className="field-label">{t('delegation.delegate')}</span>
          <PersonPicker
            value={delegate}
            onChange={setDelegate}
            canSearch
            search={searchCandidates}
            exclude={[me.user.id]}
            invalid={Boolean(pickerError)}
            testId="delegate-picker"
          />
          {pickerError && <p className="field-error">{pickerError}</p>}
        </div>
        <div className="form-row">
          <Field label={t('delegation.startsAt')} error={fields.startsAt && i18n.fieldText(fields.startsAt)}>
            {(p) => (
              <input
                {...p}
                type="datetime-local"
                className="input"
                value={startsAt}
                onChange={(e) => setStartsAt(e.target.value)}
              />
            )}
          </Field>
          <Field
            label={t('delegation.endsAt')}
            error={attempted && rangeWrong ? t('field.laterThanStart') : fields.endsAt}
          >
            {(p) => (
              <input
                {...p}
                type="datetime-local"
                className="input"
                value={endsAt}
                onChange={(e) => setEndsAt(e.target.value)}
              />
            )}
          </Field>
        </div>
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={create.busy} data-testid="delegation-add">
            {create.busy ? t('common.saving') : t('delegation.add')}
          </button>
        </div>
      </form>
      {ending && (
        <ConfirmDialog
          title={t('delegation.end')}
          message={`${ending.delegateName} · ${i18n.formatDate(ending.startsAt)} – ${i18n.formatDate(ending.endsAt)}`}
          confirmLabel={t('delegation.end')}
          busy={end.busy}
          error={<ProblemMessage error={end.error} />}
          onConfirm={() => void end.run(ending)}
          onCancel={() => setEnding(null)}
        />
      )}
    </section>
  );
}
