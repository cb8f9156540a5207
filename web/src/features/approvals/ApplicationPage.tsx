import { useState } from 'react';
import { ApiError, api, type Application, type ApprovalTask, type InboxTask, type Person } from '../../api';
import { ApplicationStatusBadge, CategoryTag, TaskStatusBadge } from './ApprovalBadges';
import { Field } from '../../ui/Field';
import { saveBlob } from '../../ui/download';
import { Icon } from '../../ui/Icons';
import { LifecycleFacts } from '../seal-lifecycle/LifecycleFacts';
import { ConfirmDialog, Modal } from '../../ui/Modal';
import { LoadState } from '../../ui/PageHeader';
import { PersonPicker } from '../../ui/PersonPicker';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { signedFileName } from '../signatures/StampResult';
import { useToast } from '../../ui/Toast';
import { useMutation, useQuery } from '../../hooks';
import { listOf, roleName, sealKindName, sealTypeName, useI18n, type I18n } from '../../i18n';
import { href, Link, navigate } from '../../router';
import { useSession } from '../../session';
import { latestCopy } from '../signatures/StampPage';
import { OutsideStamps } from '../signatures/OutsideStamps';
import { DeviceReview } from '../devices/DeviceReview';

/**
 * One application: what is asked, the timeline of its approval (level by level, with
 * each approver's decision), its CC and, once approved, its authorizations. The
 * applicant may withdraw it while pending; an approver with a pending task decides here.
 */
export function ApplicationPage({ applicationId }: { applicationId: string }) {
  const i18n = useI18n();
  const { t, tx } = i18n;
  const { me } = useSession();
  const notify = useToast();
  const detail = useQuery(['ApplicationPage.detail', applicationId], (signal) =>
    api.application(applicationId, signal),
  );
  const [withdrawing, setWithdrawing] = useState(false);
  /** Set when a decision lost a race: someone else decided first. */
  const [overtaken, setOvertaken] = useState<string | null>(null);
  /** Set once my decision left nothing else waiting for me. */
  const [inboxEmpty, setInboxEmpty] = useState(false);
  const application = detail.data;

  const withdraw = useMutation(
    () => api.withdrawApplication(applicationId),
    (updated) => {
      detail.setData(updated);
      setWithdrawing(false);
      notify(t('application.withdrawn'));
    },
  );

  if (!application) {
    return (
      <>
        <BackLink mine />
        <LoadState loading={detail.loading} error={detail.error} empty={false} onRetry={detail.reload} />
      </>
    );
  }

  const mine = application.applicantId === me.user.id;
  const lifecycle = application.purpose === 'lifecycle';
  const sodChange = application.purpose === 'sod_change';
  /** Neither seals nor uses: what it changes is shown on its own. */
  const aboutSeals = !lifecycle && !sodChange;
  const myTask =
    application.status === 'pending'
      ? application.tasks.find((task) => task.assigneeId === me.user.id && task.status === 'pending')
      : undefined;

  /**
   * After my decision the next pending task opens at once, so an approver works through the inbox
   * without going back to it; when none is left, this application stays and says so. The inbox is
   * asked afresh: tasks may have reached me (or been decided elsewhere) since it was last shown.
   */
  const moveOn = async (message: string) => {
    let next: InboxTask | undefined;
    try {
      const pending = await api.tasks({ status: 'pending', limit: 200 });
      next = pending.items.find((task) => task.status === 'pending' && task.applicationId !== applicationId);
    } catch {
      // The decision stands; without the inbox the approver simply stays here.
      notify(message);
      return;
    }
    if (next) {
      notify(`${message} ${t('decision.next', { name: next.applicantName })}`);
      navigate(`/applications/${next.applicationId}`);
    } else {
      notify(message);
      setInboxEmpty(true);
    }
  };

  /** A decision answered 409: say so, and show the application as it now stands. */
  const onOvertaken = (error: ApiError) => {
    const status = (error.problem.application as { status?: string } | undefined)?.status ?? '';
    setOvertaken(tx(`appStatus.${status}`, status));
    detail.reload();
  };

  return (
    <>
      <BackLink mine={mine} />
      <div className="page-header">
        <div className="page-heading">
          <h1 data-testid="page-title">
            {lifecycle
              ? t(`lifecycle.heading.${application.lifecycleAction ?? 'produce'}`)
              : sodChange
                ? t('sodChange.heading')
                : t('application.heading')}
          </h1>
          <div className="detail-sub">
            <ApplicationStatusBadge status={application.status} />
            {lifecycle ? (
              <span className="tag">{t('lifecycle.tag')}</span>
            ) : sodChange ? (
              <span className="tag">{t('sodChange.tag')}</span>
            ) : (
              <CategoryTag category={application.category} />
            )}
            <span className="muted small">{i18n.formatDate(application.createdAt)}</span>
          </div>
        </div>
        {mine && application.status === 'pending' && (
          <div className="page-actions">
            <button
              type="button"
              className="button button-danger-outline"
              onClick={() => setWithdrawing(true)}
              data-testid="application-withdraw"
            >
              {t('application.withdraw')}
            </button>
          </div>
        )}
      </div>

      {application.status === 'closed' && (
        <div className="alert alert-info" role="status" data-testid="application-closed">
          <Icon name="alert" size={20} className="alert-icon" />
          <div>
            <p>{t('application.closedBecause')}</p>
            {application.closedReason && <p className="muted small">{application.closedReason}</p>}
          </div>
        </div>
      )}

      {overtaken && (
        <div className="alert alert-info" role="status" data-testid="decision-overtaken">
          <Icon name="alert" size={20} className="alert-icon" />
          <p>{t('decision.alreadyDecided', { status: overtaken })}</p>
        </div>
      )}

      {inboxEmpty && (
        <div className="alert alert-success" role="status" data-testid="inbox-cleared">
          <Icon name="check" size={20} className="alert-icon" />
          <div>
            <p>{t('decision.noneLeft')}</p>
            <Link to="/inbox" className="small" data-testid="inbox-cleared-link">
              {t('decision.backToInbox')}
            </Link>
          </div>
        </div>
      )}

      <section className="card" data-testid="application-facts">
        <dl className="facts facts-wide">
          <div className="fact-full">
            <dt>{t('application.reason')}</dt>
            <dd className="prewrap" data-testid="application-reason">
              {application.reason}
            </dd>
          </div>
          {aboutSeals && (
            <div className="fact-full">
              <dt>{t('application.seals')}</dt>
              <dd>
                <ul className="seal-lines">
                  {application.seals.map((s) => (
                    <li key={s.id} data-testid="application-seal">
                      <Icon name="seal" size={16} className="seal-line-icon" />
                      <span>
                        <strong>{s.name}</strong>{' '}
                        <span className="muted small">
                          {[s.code, sealTypeName(i18n, s.type), sealKindName(i18n, s.kind)].join(' · ')}
                        </span>
                      </span>
                    </li>
                  ))}
                </ul>
              </dd>
            </div>
          )}
          <div>
            <dt>{t('application.applicant')}</dt>
            <dd data-testid="application-applicant">{application.applicantName}</dd>
          </div>
          {aboutSeals && (
            <div>
              <dt>{t('application.uses')}</dt>
              <dd data-testid="application-uses">{application.uses}</dd>
            </div>
          )}
          {application.photosPerUse > 0 && (
            <div>
              <dt>{t('application.photos')}</dt>
              <dd>{application.photosPerUse}</dd>
            </div>
          )}
          <div>
            <dt>{t('application.submittedAt')}</dt>
            <dd>{i18n.formatDate(application.createdAt)}</dd>
          </div>
          {application.decidedAt && (
            <div>
              <dt>{t('application.decidedAt')}</dt>
              <dd>{i18n.formatDate(application.decidedAt)}</dd>
            </div>
          )}
          <div>
            <dt>{t('application.flow')}</dt>
            <dd>
              {t('application.flowVersion', { name: application.plan.flowName, version: application.plan.flowVersion })}
            </dd>
          </div>
        </dl>
      </section>

      {lifecycle && <LifecycleFacts application={application} />}
      {sodChange && <SodChangeFacts application={application} />}

      {myTask && (
        <DecisionCard
          key={myTask.id}
          application={application}
          task={myTask}
          onDecided={(updated, message) => {
            setOvertaken(null);
            detail.setData(updated);
            void moveOn(message);
          }}
          onOvertaken={onOvertaken}
        />
      )}

      {application.documents.length > 0 && <Documents application={application} />}
      {application.documents.length > 0 && (
        <OutsideStamps applicationId={application.id} pending={application.status === 'pending'} />
      )}
      {application.authorizations.some((a) => a.kind === 'ticket') && <DeviceReview application={application} />}

      <Timeline application={application} />

      {application.cc.length > 0 && (
        <section className="card">
          <h2>{t('application.cc')}</h2>
          <ul className="people">
            {application.cc.map((c) => (
              <li key={c.id} className="person-chip">
                {c.name}
              </li>
            ))}
          </ul>
        </section>
      )}

      {application.authorizations.length > 0 && <Authorizations application={application} />}

      {withdrawing && (
        <ConfirmDialog
          title={t('application.withdraw')}
          message={t('application.withdrawConfirm')}
          confirmLabel={t('application.withdraw')}
          danger
          busy={withdraw.busy}
          error={<ProblemMessage error={withdraw.error} />}
          onConfirm={() => void withdraw.run()}
          onCancel={() => {
            setWithdrawing(false);
            if (withdraw.error?.code === 'application_not_pending') detail.reload();
            withdraw.reset();
          }}
        />
      )}
    </>
  );
}

function BackLink({ mine }: { mine: boolean }) {
  const { t } = useI18n();
  return (
    <Link to={mine ? '/applications' : '/inbox'} className="back-link" data-testid="back-link">
      <Icon name="chevron" size={14} className="flip" />
      {mine ? t('application.back') : t('inbox.title')}
    </Link>
  );
}

function viaText(i18n: I18n, task: ApprovalTask): string | null {
  if (!task.via) return null;
  const name = task.onBehalfOfName ?? '—';
  const key = ({ delegation: 'via.delegation', transfer: 'via.transfer', escalation: 'via.escalation' } as const)[
    task.via
  ];
  return i18n.t(key, { name });
}

type Step = 'done' | 'current' | 'rejected' | 'future' | 'skipped';

/** The approval as it happened and as it will go on: submitted, each level, the outcome. */
function Timeline({ application }: { application: Application }) {
  const i18n = useI18n();
  const { t, tx } = i18n;
  const ended = application.status !== 'pending';
  const levels = application.plan.levels.map((level, index) => {
    const tasks = application.tasks
      .filter((task) => task.level === index)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    let step: Step = 'future';
    if (tasks.some((task) => task.status === 'rejected')) step = 'rejected';
    else if (tasks.some((task) => task.status === 'pending')) step = 'current';
    else if (tasks.some((task) => task.status === 'approved')) step = 'done';
    else if (tasks.length > 0 || ended) step = 'skipped';
    return { level, index, tasks, step };
  });
  const end: Step =
    application.status === 'approved' ? 'done' : application.status === 'rejected' ? 'rejected' : 'skipped';

  return (
    <section className="card" data-testid="application-timeline">
      <h2>{t('application.timeline')}</h2>
      <ol className="timeline">
        <li className="tl-item tl-done">
          <span className="tl-dot" aria-hidden="true" />
          <div className="tl-body">
            <div className="tl-head">
              <strong>{t('application.submittedBy', { name: application.applicantName })}</strong>
            </div>
            <div className="muted small">{i18n.formatDate(application.createdAt)}</div>
          </div>
        </li>
        {levels.map(({ level, index, tasks, step }) => (
          <li
            key={index}
            className={`tl-item tl-${step}`}
            data-testid="timeline-level"
            data-level={index}
            data-step={step}
          >
            <span className="tl-dot" aria-hidden="true" />
            <div className="tl-body">
              <div className="tl-head">
                <span className="tl-level">{t('apply.level', { n: index + 1 })}</span>
                <strong>{level.name}</strong>
                {level.approvers.length > 1 && (
                  <span className="muted small">{tx(`mode.${level.mode}`, level.mode)}</span>
                )}
              </div>
              {tasks.length === 0 ? (
                <div className="tl-waiting">
                  <span className="muted small">
                    {listOf(
                      i18n,
                      level.approvers.map((a) => a.name),
                    )}
                  </span>
                  <span className="badge badge-muted">{t('application.notReached')}</span>
                </div>
              ) : (
                <ul className="tl-tasks">
                  {tasks.map((task) => (
                    <li key={task.id} className="tl-task" data-testid="timeline-task" data-status={task.status}>
                      <div className="tl-task-head">
                        <span className="avatar avatar-small" aria-hidden="true">
                          {task.assigneeName.slice(0, 1).toUpperCase()}
                        </span>
                        <span className="tl-name">{task.assigneeName}</span>
                        <TaskStatusBadge status={task.status} />
                      </div>
                      {viaText(i18n, task) && <div className="muted small tl-via">{viaText(i18n, task)}</div>}
                      {task.comment && <blockquote className="tl-comment">{task.comment}</blockquote>}
                      {task.decidedAt && task.status !== 'cancelled' && (
                        <div className="muted small">{i18n.formatDate(task.decidedAt)}</div>
                      )}
                    </li>
                  ))}
                </ul>
              )}
            </div>
          </li>
        ))}
        {ended && (
          <li className={`tl-item tl-${end} tl-end`} data-testid="timeline-end" data-status={application.status}>
            <span className="tl-dot" aria-hidden="true" />
            <div className="tl-body">
              <div className="tl-head">
                <strong>
                  {application.status === 'approved'
                    ? application.purpose === 'lifecycle'
                      ? t('lifecycle.endApproved')
                      : application.purpose === 'sod_change'
                        ? t('sodChange.endApproved')
                        : t('application.endApproved')
                    : application.status === 'rejected'
                      ? t('application.endRejected')
                      : application.status === 'closed'
                        ? t('application.endClosed')
                        : t('application.endWithdrawn')}
                </strong>
              </div>
              {application.decidedAt && <div className="muted small">{i18n.formatDate(application.decidedAt)}</div>}
            </div>
          </li>
        )}
      </ol>
    </section>
  );
}

function Authorizations({ application }: { application: Application }) {
  const { t } = useI18n();
  const sealName = (id: string) => application.seals.find((s) => s.id === id)?.name ?? id.slice(0, 8);
  return (
    <section className="card" data-testid="application-authorizations">
      <h2>{t('application.authorizations')}</h2>
      <ul className="item-list">
        {application.authorizations.map((a) => (
          <li key={a.id} data-testid="authorization">
            <div className="role-line">
              <strong>{sealName(a.sealId)}</strong>
              <span className="badge badge-muted">
                {a.kind === 'documents' ? t('application.authDocuments') : t('application.authTicket')}
              </span>
              {a.revokedAt && <span className="badge badge-danger">{t('application.authRevoked')}</span>}
            </div>
            <span className="muted small nowrap">
              {t('application.authUses', { used: a.usesConsumed, total: a.usesTotal })}
            </span>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** A proposed separation-of-duties matrix against the one in force when it was proposed: what it adds, removes and keeps. */
function SodChangeFacts({ application }: { application: Application }) {
  const i18n = useI18n();
  const { t } = i18n;
  const asPairs = (value: unknown) => (Array.isArray(value) ? (value as Array<[string, string]>) : []);
  const key = ([a, b]: [string, string]) => [a, b].sort().join('|');
  const asked = asPairs(application.payload.pairs);
  const before = new Set(asPairs(application.payload.from).map(key));
  const after = new Set(asked.map(key));
  const removed = asPairs(application.payload.from).filter((p) => !after.has(key(p)));
  const line = ([a, b]: [string, string]) => `${roleName(i18n, a)} / ${roleName(i18n, b)}`;
  const group = (label: string, pairs: Array<[string, string]>, testId: string) =>
    pairs.length > 0 && (
      <div className="fact-full" data-testid={testId}>
        <dt>{label}</dt>
        <dd>
          <ul>
            {pairs.map((p) => (
              <li key={key(p)}>{line(p)}</li>
            ))}
          </ul>
        </dd>
      </div>
    );
  return (
    <section className="card" data-testid="sod-change-facts">
      <h2>{t('sodChange.title')}</h2>
      <dl className="facts facts-wide">
        {group(
          t('sodChange.added'),
          asked.filter((p) => !before.has(key(p))),
          'sod-change-added',
        )}
        {group(t('sodChange.removed'), removed, 'sod-change-removed')}
        {group(
          t('sodChange.unchanged'),
          asked.filter((p) => before.has(key(p))),
          'sod-change-unchanged',
        )}
      </dl>
    </section>
  );
}

/** Approve (comment optional), reject (reason required, confirmed), or transfer to someone else. */
function DecisionCard({
  application,
  task,
  onDecided,
  onOvertaken,
}: {
  application: Application;
  task: ApprovalTask;
  onDecided: (application: Application, message: string) => void;
  onOvertaken: (error: ApiError) => void;
}) {
  const { t } = useI18n();
  const [comment, setComment] = useState('');
  const [reasonMissing, setReasonMissing] = useState(false);
  const [confirmingReject, setConfirmingReject] = useState(false);
  const [transferring, setTransferring] = useState(false);

  const decide = useMutation(async (kind: 'approve' | 'reject') => {
    try {
      return kind === 'approve'
        ? await api.approveTask(task.id, comment.trim() ? { comment: comment.trim() } : {})
        : await api.rejectTask(task.id, { reason: comment.trim() });
    } catch (error) {
      if (error instanceof ApiError && (error.code === 'task_already_decided' || error.code === 'task_not_yours'))
        onOvertaken(error);
      throw error;
    }
  });

  const run = async (kind: 'approve' | 'reject') => {
    const updated = await decide.run(kind);
    setConfirmingReject(false);
    if (updated) onDecided(updated, kind === 'approve' ? t('decision.approved') : t('decision.rejected'));
  };

  const overtaken = decide.error?.code === 'task_already_decided' || decide.error?.code === 'task_not_yours';
  const fieldError = reasonMissing ? t('decision.reasonRequired') : decide.error?.fieldErrors().reason;

  return (
    <section className="card decision-card" data-testid="decision-card">
      <h2>{t('decision.title')}</h2>
      {task.via === 'delegation' && task.onBehalfOfName && (
        <p className="muted small">{t('decision.onBehalf', { name: task.onBehalfOfName })}</p>
      )}
      {!overtaken && (
        <ProblemMessage
          error={decide.error && !decide.error.fieldErrors().reason ? decide.error : null}
          testId="decision-problem"
        />
      )}
      <Field label={t('decision.comment')} hint={t('decision.commentHint')} error={fieldError}>
        {(p) => (
          <textarea
            {...p}
            className="input"
            rows={3}
            maxLength={1000}
            value={comment}
            onChange={(e) => {
              setComment(e.target.value);
              if (e.target.value.trim()) setReasonMissing(false);
            }}
            data-testid="decision-comment"
          />
        )}
      </Field>
      <div className="decision-actions">
        <button
          type="button"
          className="button button-primary"
          disabled={decide.busy}
          onClick={() => void run('approve')}
          data-testid="decision-approve"
        >
          <Icon name="check" size={17} />
          {t('decision.approve')}
        </button>
        <button
          type="button"
          className="button button-danger-outline"
          disabled={decide.busy}
          onClick={() => {
            if (!comment.trim()) {
              setReasonMissing(true);
              return;
            }
            decide.reset();
            setConfirmingReject(true);
          }}
          data-testid="decision-reject"
        >
          {t('decision.reject')}
        </button>
        <button
          type="button"
          className="button"
          disabled={decide.busy}
          onClick={() => setTransferring(true)}
          data-testid="decision-transfer"
        >
          <Icon name="send" size={16} />
          {t('decision.transfer')}
        </button>
      </div>
      {confirmingReject && (
        <ConfirmDialog
          title={t('decision.reject')}
          message={t('decision.rejectConfirm')}
          confirmLabel={t('decision.reject')}
          danger
          busy={decide.busy}
          error={<ProblemMessage error={decide.error} />}
          onConfirm={() => void run('reject')}
          onCancel={() => setConfirmingReject(false)}
        >
          <blockquote className="tl-comment">{comment.trim()}</blockquote>
        </ConfirmDialog>
      )}
      {transferring && (
        <TransferDialog
          application={application}
          task={task}
          onClose={() => setTransferring(false)}
          onOvertaken={(error) => {
            setTransferring(false);
            onOvertaken(error);
          }}
          onDone={(updated, to) => {
            setTransferring(false);
            onDecided(updated, t('decision.transferred', { name: to.name }));
          }}
        />
      )}
    </section>
  );
}

/**
 * Transfer (转交) to someone who may take the task: the server offers them (people of the
 * application's company line who are not its applicant and decide no other level of it), the
 * first few at once and the rest by name or e-mail.
 */
function TransferDialog({
  application,
  task,
  onClose,
  onDone,
  onOvertaken,
}: {
  application: Application;
  task: ApprovalTask;
  onClose: () => void;
  onDone: (application: Application, to: Person) => void;
  onOvertaken: (error: ApiError) => void;
}) {
  const { t, fieldText } = useI18n();
  const [to, setTo] = useState<Person | null>(null);
  const [comment, setComment] = useState('');
  const [attempted, setAttempted] = useState(false);
  const candidates = useQuery(['ApplicationPage.candidates', task.id], (signal) =>
    api.transferCandidates(task.id, { limit: 50 }, signal),
  );
  const asPeople = (items: Array<Person & { companyName: string }>) =>
    items.map((p) => ({ id: p.id, name: p.name, detail: p.companyName }));
  const known: Person[] = asPeople(candidates.data?.items ?? []);
  const save = useMutation(
    async () => {
      try {
        return await api.transferTask(task.id, {
          toUserId: to!.id,
          ...(comment.trim() ? { comment: comment.trim() } : {}),
        });
      } catch (error) {
        if (error instanceof ApiError && (error.code === 'task_already_decided' || error.code === 'task_not_yours'))
          onOvertaken(error);
        throw error;
      }
    },
    (updated) => onDone(updated, to!),
  );
  const fields = save.error?.fieldErrors() ?? {};
  const pickerError = attempted && !to ? t('field.choosePerson') : fields.toUserId && fieldText(fields.toUserId);
  return (
    <Modal
      title={t('decision.transferTitle')}
      onClose={onClose}
      testId="transfer-dialog"
      focusFirstField={false}
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button
            type="button"
            className="button button-primary"
            disabled={save.busy}
            onClick={() => {
              setAttempted(true);
              if (to) void save.run();
            }}
            data-testid="transfer-submit"
          >
            {save.busy ? t('common.saving') : t('decision.transfer')}
          </button>
        </>
      }
    >
      <ProblemMessage error={save.error && !fields.toUserId ? save.error : null} />
      <div className={`field${pickerError ? ' field-invalid' : ''}`}>
        <span className="field-label">{t('decision.transferTo')}</span>
        <PersonPicker
          value={to}
          onChange={(p) => {
            setTo(p);
            save.reset();
          }}
          canSearch
          search={(q, signal) => api.transferCandidates(task.id, { q }, signal).then((page) => asPeople(page.items))}
          known={known}
          knownLabel={t('decision.transferKnown')}
          exclude={[application.applicantId, task.assigneeId]}
          invalid={Boolean(pickerError)}
          testId="transfer-picker"
        />
        {pickerError ? (
          <p className="field-error">{pickerError}</p>
        ) : (
          <p className="field-hint">{t('decision.transferHint')}</p>
        )}
      </div>
      <Field label={t('decision.comment')} optional>
        {(p) => (
          <textarea
            {...p}
            className="input"
            rows={2}
            maxLength={1000}
            value={comment}
            onChange={(e) => setComment(e.target.value)}
            data-testid="transfer-comment"
          />
        )}
      </Field>
    </Modal>
  );
}

/** The newest signed copy of a document (its chain of stamps), to download or verify. */
function SignedCopy({ sha256 }: { sha256: string }) {
  const i18n = useI18n();
  const { t } = i18n;
  const copies = useQuery(['ApplicationPage.copies', sha256], (signal) => api.signatures(sha256, signal));
  const [failed, setFailed] = useState(false);
  const latest = latestCopy(copies.data?.items ?? []);
  if (!latest) return null;
  const { signature } = latest;
  const download = async () => {
    setFailed(false);
    try {
      saveBlob(await api.signedDocument(signature.id), signedFileName(i18n, signature.documentName));
    } catch {
      setFailed(true);
    }
  };
  return (
    <div className="signed-copy" data-testid="signed-copy" data-signature={signature.id}>
      <Icon name="pen" size={16} className="seal-line-icon" />
      <span className="signed-copy-text">
        <strong>{t('stamp.signedCopy')}</strong>
        <span className="muted small">
          {t('stamp.copyLine', { n: latest.count, time: i18n.formatDate(signature.signedAt) })} ·{' '}
          {t('stamp.copyBy', { seal: signature.sealName ?? '—', name: signature.userName })}
        </span>
      </span>
      <span className="signed-copy-actions">
        <button
          type="button"
          className="button button-small"
          onClick={() => void download()}
          data-testid="signed-copy-download"
        >
          <Icon name="download" size={15} />
          {t('application.openDocument')}
        </button>
        <Link
          to={href('/verify', { signature: signature.id })}
          className="button button-small"
          data-testid="signed-copy-verify"
        >
          <Icon name="verify" size={15} />
          {t('stamp.check')}
        </Link>
      </span>
      {failed && <span className="error small">{t('application.documentFailed')}</span>}
    </div>
  );
}

/** The files to stamp: each downloadable; once approved, stamped by the applicant, with the newest signed copy beneath. */
function Documents({ application }: { application: Application }) {
  const { t } = useI18n();
  const { me } = useSession();
  const [failed, setFailed] = useState<string | null>(null);
  const approved = application.status === 'approved' && application.purpose === 'seal_use';
  const signsDocuments = approved && application.authorizations.some((a) => a.kind === 'documents');
  const canStamp =
    approved &&
    application.authorizations.some(
      (a) => a.kind === 'documents' && a.holderId === me.user.id && !a.revokedAt && a.usesConsumed < a.usesTotal,
    );
  const open = async (sha256: string, name: string) => {
    setFailed(null);
    try {
      saveBlob(await api.downloadDocument(application.id, sha256), name);
    } catch {
      setFailed(sha256);
    }
  };
  return (
    <section className="card" data-testid="application-documents">
      <h2>{t('apply.documents')}</h2>
      <ul className="document-list">
        {application.documents.map((d) => (
          <li key={d.sha256} className="document-entry" data-testid="application-document" data-sha256={d.sha256}>
            <div className="document-item">
              <span className="document-name">{d.name}</span>
              <span className="muted small">{Math.max(1, Math.round(d.size / 1024))} KB</span>
              <span className="document-actions">
                <button
                  type="button"
                  className="button button-small"
                  onClick={() => void open(d.sha256, d.name)}
                  data-testid="application-document-open"
                >
                  {t('application.openDocument')}
                </button>
                {canStamp && (
                  <Link
                    to={`/applications/${application.id}/stamp/${d.sha256}`}
                    className="button button-small button-primary"
                    data-testid="application-document-stamp"
                  >
                    <Icon name="pen" size={15} />
                    {t('stamp.action')}
                  </Link>
                )}
              </span>
              {failed === d.sha256 && <span className="error small">{t('application.documentFailed')}</span>}
            </div>
            {signsDocuments && <SignedCopy sha256={d.sha256} />}
          </li>
        ))}
      </ul>
    </section>
  );
}
