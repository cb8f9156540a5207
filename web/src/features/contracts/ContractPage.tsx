import { useRef, useState, type ReactNode } from 'react';
import {
  api,
  ApiError,
  type Contract,
  type ContractAttachment,
  type ContractInvitation,
  type ContractParticipant,
  type ContractStatus,
} from '../../api';
import { useMutation, useQuery } from '../../hooks';
import { categoryName, useI18n, type I18n } from '../../i18n';
import { Link, navigate } from '../../router';
import { useCan, useSession } from '../../session';
import { Field } from '../../ui/Field';
import { saveBlob } from '../../ui/download';
import { Icon } from '../../ui/Icons';
import { ConfirmDialog, Modal } from '../../ui/Modal';
import { LoadState } from '../../ui/PageHeader';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { useToast } from '../../ui/Toast';
import { ContractStatusBadge, ParticipantStatusBadge, participantName } from './ContractBadges';
import { EvidenceButton, hasEvidence, useEvidenceDownload } from './EvidenceButton';
import { SignPanel } from './SignPanel';
import './contracts.css';

const OPEN: readonly ContractStatus[] = ['sent', 'signing'];

type Dialog = 'send' | 'approve' | 'reject' | 'void' | 'voidAgreement' | null;

/**
 * One contract: its state, who takes part in which step and how far each has got, what has
 * happened, and what I may do now: send a draft (its sender), sign or approve when my step is
 * open, reject, void, remind (催签), and download the PDF as it now stands.
 */
export function ContractPage({ contractId }: { contractId: string }) {
  const i18n = useI18n();
  const { t } = i18n;
  const { me } = useSession();
  const can = useCan();
  const notify = useToast();
  const detail = useQuery(['ContractPage.detail', contractId], (signal) => api.contract(contractId, signal));
  const [dialog, setDialog] = useState<Dialog>(null);
  const [signing, setSigning] = useState(false);
  const [invitations, setInvitations] = useState<ContractInvitation[] | null>(null);
  const [reminded, setReminded] = useState<number | null>(null);
  const contract = detail.data;

  const close = () => setDialog(null);
  const send = useMutation(
    () => api.sendContract(contractId),
    (result) => {
      detail.setData(result.contract);
      setInvitations(result.invitations);
      close();
      notify(t('contract.sent'));
    },
  );
  const approve = useMutation(
    () => api.approveContract(contractId),
    (updated) => {
      detail.setData(updated);
      close();
      notify(t('contract.approved'));
    },
  );
  const remind = useMutation(
    () => api.remindContract(contractId),
    (result) => {
      setReminded(result.reminded);
      notify(t('contract.reminded', { n: result.reminded }));
    },
  );

  if (!contract) {
    return (
      <>
        <BackLink />
        <LoadState loading={detail.loading} error={detail.error} empty={false} onRetry={detail.reload} />
      </>
    );
  }

  const isSender = contract.createdBy === me.user.id || can('contracts.read', contract.companyId);
  const isOpen = OPEN.includes(contract.status);
  const mine = contract.participants.filter((p) => p.userId === me.user.id && p.status === 'active');
  const mySigner = isOpen ? mine.find((p) => p.role === 'signer') : undefined;
  const myApprover = isOpen ? mine.find((p) => p.role === 'approver') : undefined;
  const canVoid = isSender && (contract.status === 'draft' || isOpen);
  // A completed contract is voided only by a void agreement its parties sign (作废协议).
  const isParty =
    contract.createdBy === me.user.id ||
    contract.participants.some((p) => p.userId === me.user.id && (p.role === 'signer' || p.role === 'approver'));
  const voidOf = (contract as Contract & { voidOf?: string | null }).voidOf ?? null;
  const canStartVoidAgreement = contract.status === 'completed' && isParty && !voidOf;

  const actions: ReactNode[] = [];
  if (contract.status === 'draft' && isSender)
    actions.push(
      <button
        key="send"
        type="button"
        className="button button-primary"
        onClick={() => setDialog('send')}
        data-testid="contract-send"
      >
        <Icon name="send" size={16} />
        {t('contract.send')}
      </button>,
    );
  if (mySigner && !signing)
    actions.push(
      <button
        key="sign"
        type="button"
        className="button button-primary"
        onClick={() => setSigning(true)}
        data-testid="contract-sign"
      >
        <Icon name="pen" size={16} />
        {mySigner.kind === 'company' ? t('contract.signSeal') : t('contract.signPerson')}
      </button>,
    );
  if (myApprover)
    actions.push(
      <button
        key="approve"
        type="button"
        className="button button-primary"
        onClick={() => setDialog('approve')}
        data-testid="contract-approve"
      >
        <Icon name="check" size={16} />
        {t('contract.approve')}
      </button>,
    );
  if (mySigner || myApprover)
    actions.push(
      <button
        key="reject"
        type="button"
        className="button button-danger-outline"
        onClick={() => setDialog('reject')}
        data-testid="contract-reject"
      >
        {t('contract.reject')}
      </button>,
    );
  if (isSender && isOpen)
    actions.push(
      <button
        key="remind"
        type="button"
        className="button"
        onClick={() => void remind.run()}
        disabled={remind.busy}
        data-testid="contract-remind"
      >
        <Icon name="bell" size={16} />
        {t('contract.remind')}
      </button>,
    );
  if (canVoid)
    actions.push(
      <button
        key="void"
        type="button"
        className="button button-danger-outline"
        onClick={() => setDialog('void')}
        data-testid="contract-void"
      >
        {t('contract.void')}
      </button>,
    );
  if (canStartVoidAgreement)
    actions.push(
      <button
        key="void-agreement"
        type="button"
        className="button button-danger-outline"
        onClick={() => setDialog('voidAgreement')}
        data-testid="contract-void-agreement"
      >
        {t('contract.voidAgreement')}
      </button>,
    );

  return (
    <>
      <BackLink />
      <div className="page-header">
        <div className="page-heading">
          <h1 data-testid="page-title">{contract.title}</h1>
          <div className="detail-sub">
            <ContractStatusBadge status={contract.status} />
            <span className="tag" data-category={contract.category}>
              {categoryName(i18n, contract.category)}
            </span>
            {contract.number && <span className="mono small">{contract.number}</span>}
            <span className="muted small">{contract.companyName}</span>
          </div>
        </div>
      </div>

      {contract.status === 'draft' && isSender && (
        <p className="alert alert-info" data-testid="contract-draft-note">
          <Icon name="alert" size={20} className="alert-icon" />
          <span>{t('contract.draftNote')}</span>
        </p>
      )}
      {mySigner && !signing && (
        <p className="alert alert-info" data-testid="contract-your-turn">
          <Icon name="pen" size={20} className="alert-icon" />
          <span>{t('contract.yourTurn')}</span>
        </p>
      )}
      {voidOf && (
        <p className="alert alert-info" data-testid="contract-void-of">
          <Icon name="alert" size={20} className="alert-icon" />
          <span>
            {t('contract.voidOfNote')} <Link to={`/contracts/${voidOf}`}>{t('contract.voidOfLink')}</Link>
          </span>
        </p>
      )}
      {contract.endReason && (
        <div className="alert alert-error" data-testid="contract-end-reason">
          <Icon name="alert" size={20} className="alert-icon" />
          <p>{t('contract.endReason', { reason: contract.endReason })}</p>
        </div>
      )}

      {actions.length > 0 && (
        <section className="card contract-actions-card" data-testid="contract-actions">
          <div className="button-row">{actions}</div>
          <RemindProblem error={remind.error} />
          {reminded !== null && !remind.error && (
            <p className="muted small" data-testid="contract-reminded">
              {t('contract.reminded', { n: reminded })}
            </p>
          )}
        </section>
      )}

      {invitations && (
        <Invitations
          invitations={invitations}
          laterSteps={contract.participants.some(
            (p) =>
              (p.kind === 'outside_person' || p.kind === 'outside_org') &&
              p.status === 'waiting' &&
              !invitations.some((i) => i.participantId === p.id),
          )}
        />
      )}

      {signing && mySigner && (
        <SignPanel
          contract={contract}
          participant={mySigner}
          onSigned={(updated) => {
            detail.setData(updated);
            setSigning(false);
            notify(t('contract.signed'));
            window.scrollTo({ top: 0 });
          }}
          onCancel={() => setSigning(false)}
          onStale={detail.reload}
        />
      )}

      <Facts contract={contract} />
      <Participants contract={contract} />
      <Timeline contract={contract} />
      <DocumentCard contract={contract} />
      <Attachments contract={contract} isSender={isSender} />

      {dialog === 'send' && (
        <ConfirmDialog
          title={t('contract.send')}
          message={t('contract.sendConfirm')}
          confirmLabel={t('contract.send')}
          busy={send.busy}
          error={<ProblemMessage error={send.error} testId="contract-send-problem" />}
          onConfirm={() => void send.run()}
          onCancel={() => {
            close();
            send.reset();
          }}
        />
      )}
      {dialog === 'approve' && (
        <ConfirmDialog
          title={t('contract.approve')}
          message={t('contract.approveConfirm')}
          confirmLabel={t('contract.approve')}
          busy={approve.busy}
          error={<ProblemMessage error={approve.error} />}
          onConfirm={() => void approve.run()}
          onCancel={() => {
            close();
            approve.reset();
          }}
        />
      )}
      {dialog === 'voidAgreement' && (
        <ReasonDialog
          title={t('contract.voidAgreement')}
          explain={t('contract.voidAgreementExplain')}
          testId="void-agreement"
          submit={(reason) => api.startVoidAgreement(contractId, { reason })}
          onDone={(result) => {
            close();
            notify(t('contract.voidAgreementStarted'));
            navigate(`/contracts/${result.contract.id}`);
          }}
          onCancel={close}
        />
      )}
      {(dialog === 'reject' || dialog === 'void') && (
        <ReasonDialog
          title={dialog === 'reject' ? t('contract.reject') : t('contract.void')}
          explain={dialog === 'reject' ? t('contract.rejectExplain') : t('contract.voidExplain')}
          testId="reason"
          submit={(reason) =>
            dialog === 'reject' ? api.rejectContract(contractId, { reason }) : api.voidContract(contractId, { reason })
          }
          onDone={(updated) => {
            detail.setData(updated);
            close();
            setSigning(false);
            notify(dialog === 'reject' ? t('contract.rejected') : t('contract.voided'));
          }}
          onCancel={close}
        />
      )}
    </>
  );
}

function BackLink() {
  const { t } = useI18n();
  return (
    <Link to="/contracts" className="back-link" data-testid="back-link">
      <Icon name="chevron" size={14} className="flip" />
      {t('contract.back')}
    </Link>
  );
}

/** 催签 refused because one went out within the hour: how long to wait, in minutes. */
function RemindProblem({ error }: { error: ApiError | null }) {
  const { t } = useI18n();
  if (!error) return null;
  const seconds = Number(error.problem.retryAfterSeconds);
  if (error.code === 'rate_limited' && Number.isFinite(seconds))
    return (
      <p className="alert alert-warning" role="alert" data-testid="contract-remind-wait" data-code={error.code}>
        <Icon name="clock" size={20} className="alert-icon" />
        <span>{t('contract.remindWait', { minutes: Math.max(1, Math.ceil(seconds / 60)) })}</span>
      </p>
    );
  return <ProblemMessage error={error} testId="contract-remind-problem" />;
}

/**
 * An action that needs a reason: reject (a signer or approver whose turn it is), void (the sender), or
 * start the void agreement (作废协议) of a completed contract (a party).
 */
function ReasonDialog<T>({
  title,
  explain,
  testId,
  submit,
  onDone,
  onCancel,
}: {
  title: string;
  explain: string;
  /** Prefix of the dialog's test ids: `<testId>-dialog`, `-input`, `-confirm`, `-problem`. */
  testId: string;
  submit: (reason: string) => Promise<T>;
  onDone: (result: T) => void;
  onCancel: () => void;
}) {
  const { t } = useI18n();
  const [reason, setReason] = useState('');
  const [attempted, setAttempted] = useState(false);
  const action = useMutation(() => submit(reason.trim()), onDone);
  const missing = !reason.trim();
  return (
    <Modal
      title={title}
      onClose={onCancel}
      testId={`${testId}-dialog`}
      footer={
        <>
          <button type="button" className="button" onClick={onCancel}>
            {t('common.cancel')}
          </button>
          <button
            type="button"
            className="button button-danger"
            disabled={action.busy}
            onClick={() => {
              setAttempted(true);
              if (!missing) void action.run();
            }}
            data-testid={`${testId}-confirm`}
          >
            {action.busy ? t('common.saving') : title}
          </button>
        </>
      }
    >
      <p className="confirm-message">{explain}</p>
      <Field
        label={t('contract.reason')}
        error={attempted && missing ? 'must not be empty' : action.error?.fieldErrors().reason}
      >
        {(p) => (
          <textarea
            {...p}
            className="input"
            rows={3}
            maxLength={500}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            data-testid={`${testId}-input`}
          />
        )}
      </Field>
      <ProblemMessage error={action.error} testId={`${testId}-problem`} />
    </Modal>
  );
}

/** The links the outside signers were just sent: shown once (the server keeps only their hashes), to pass on by hand too. */
function Invitations({ invitations, laterSteps }: { invitations: ContractInvitation[]; laterSteps: boolean }) {
  const i18n = useI18n();
  const { t } = i18n;
  const notify = useToast();
  if (invitations.length === 0)
    return laterSteps ? (
      <p className="alert alert-info" data-testid="contract-links-later">
        <Icon name="send" size={20} className="alert-icon" />
        <span>{t('contract.linksLater')}</span>
      </p>
    ) : null;
  return (
    <section className="card" data-testid="contract-invitations">
      <h2>{t('contract.links')}</h2>
      <p className="muted small">{t('contract.linksHint')}</p>
      {laterSteps && <p className="muted small">{t('contract.linksLater')}</p>}
      <ul className="item-list invitation-list">
        {invitations.map((invitation) => (
          <InvitationLine
            key={invitation.participantId}
            invitation={invitation}
            onCopied={() => notify(t('common.copied'))}
          />
        ))}
      </ul>
    </section>
  );
}

function InvitationLine({ invitation, onCopied }: { invitation: ContractInvitation; onCopied: () => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const input = useRef<HTMLInputElement>(null);
  const url = new URL(invitation.path, window.location.origin).toString();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(url);
    } catch {
      // No clipboard API outside a secure context (plain http on a LAN): select the text and copy it.
      input.current?.select();
      window.document.execCommand('copy');
    }
    onCopied();
  };
  return (
    <li className="invitation" data-testid="contract-invitation" data-participant={invitation.participantId}>
      <div className="invitation-head">
        <strong>{invitation.name}</strong>
        <span className="muted small">
          {t('contract.linkExpires', { time: i18n.formatDate(invitation.expiresAt) })}
        </span>
      </div>
      <div className="invitation-link">
        <input
          ref={input}
          className="input input-mono"
          readOnly
          value={url}
          onFocus={(e) => e.currentTarget.select()}
          aria-label={t('contract.linkFor', { name: invitation.name })}
          data-testid="contract-invitation-link"
        />
        <button type="button" className="button" onClick={() => void copy()} data-testid="contract-invitation-copy">
          {t('common.copy')}
        </button>
      </div>
    </li>
  );
}

function Facts({ contract }: { contract: Contract }) {
  const i18n = useI18n();
  const { t } = i18n;
  const fact = (label: string, value: ReactNode, testId?: string) => (
    <div>
      <dt>{label}</dt>
      <dd data-testid={testId}>{value}</dd>
    </div>
  );
  return (
    <section className="card" data-testid="contract-facts">
      <dl className="facts facts-wide">
        {fact(t('contract.company'), contract.companyName)}
        {fact(t('contract.field.number'), contract.number ?? '—', 'contract-number')}
        {fact(t('category.label'), categoryName(i18n, contract.category))}
        {fact(t('contract.status'), <ContractStatusBadge status={contract.status} />)}
        {contract.effectiveOn && fact(t('contract.effectiveOn'), i18n.formatDate(contract.effectiveOn, false))}
        {contract.expiresOn && fact(t('contract.expiresOn'), i18n.formatDate(contract.expiresOn, false))}
        {contract.deadline && fact(t('contract.deadline'), i18n.formatDate(contract.deadline))}
        {fact(t('common.createdAt'), i18n.formatDate(contract.createdAt))}
        {contract.sentAt && fact(t('contract.sentAt'), i18n.formatDate(contract.sentAt))}
      </dl>
    </section>
  );
}

function kindText(i18n: I18n, p: ContractParticipant): string {
  return i18n.tx(`participantKind.${p.kind}`, p.kind);
}

/** Participants step by step; the open step is marked, and each shows how far it has got. */
function Participants({ contract }: { contract: Contract }) {
  const i18n = useI18n();
  const { t, tx } = i18n;
  const steps = [...new Set(contract.participants.map((p) => p.step))].sort((a, b) => a - b);
  const open = OPEN.includes(contract.status);
  return (
    <section className="card" data-testid="contract-participants">
      <h2>{t('contract.participants')}</h2>
      <ol className="contract-steps">
        {steps.map((step) => {
          const current = open && step === contract.currentStep;
          return (
            <li
              key={step}
              className={`contract-step${current ? ' current' : ''}`}
              data-testid="contract-step"
              data-step={step}
              data-current={current ? 'true' : 'false'}
            >
              <div className="contract-step-head">
                <span className="tl-level">{t('contract.stepN', { n: step })}</span>
                {current && <span className="badge badge-info">{t('contract.currentStep')}</span>}
              </div>
              <ul className="item-list">
                {contract.participants
                  .filter((p) => p.step === step)
                  .sort((a, b) => a.position - b.position)
                  .map((p) => (
                    <li
                      key={p.id}
                      data-testid="contract-participant"
                      data-participant={p.id}
                      data-kind={p.kind}
                      data-role={p.role}
                      data-step={p.step}
                      data-status={p.status}
                    >
                      <div>
                        <div className="role-line">
                          <strong>{participantName(p)}</strong>
                          <span className="tag">{tx(`participantRole.${p.role}`, p.role)}</span>
                          <span className="muted small">{kindText(i18n, p)}</span>
                        </div>
                        {(p.phone || p.email) && (
                          <div className="muted small">{[p.phone, p.email].filter(Boolean).join(' · ')}</div>
                        )}
                        {p.reason && <blockquote className="tl-comment">{p.reason}</blockquote>}
                      </div>
                      <div className="participant-state">
                        <ParticipantStatusBadge status={p.status} />
                        {p.actedAt && <span className="muted small nowrap">{i18n.formatDate(p.actedAt)}</span>}
                      </div>
                    </li>
                  ))}
              </ul>
            </li>
          );
        })}
      </ol>
    </section>
  );
}

interface Happening {
  at: string;
  key: string;
  text: string;
  tone: 'done' | 'rejected' | 'current';
  note?: string | null;
}

/** What has happened so far, oldest first: made, sent, each participant's act, the end. */
function Timeline({ contract }: { contract: Contract }) {
  const i18n = useI18n();
  const { t } = i18n;
  const events: Happening[] = [
    { at: contract.createdAt, key: 'created', text: t('contract.event.created'), tone: 'done' },
  ];
  if (contract.sentAt) events.push({ at: contract.sentAt, key: 'sent', text: t('contract.event.sent'), tone: 'done' });
  for (const p of contract.participants) {
    if (!p.actedAt) continue;
    const name = participantName(p);
    events.push({
      at: p.actedAt,
      key: p.id,
      text:
        p.status === 'rejected'
          ? t('contract.event.rejected', { name })
          : p.role === 'approver'
            ? t('contract.event.approved', { name })
            : t('contract.event.signed', { name }),
      tone: p.status === 'rejected' ? 'rejected' : 'done',
      note: p.reason,
    });
  }
  if (contract.endedAt && contract.status !== 'rejected')
    events.push({
      at: contract.endedAt,
      key: 'end',
      text: i18n.tx(`contract.event.${contract.status}`, contract.status),
      tone: contract.status === 'completed' ? 'done' : 'rejected',
      note: contract.endReason,
    });
  events.sort((a, b) => a.at.localeCompare(b.at));
  return (
    <section className="card" data-testid="contract-timeline">
      <h2>{t('contract.timeline')}</h2>
      <ol className="timeline">
        {events.map((e) => (
          <li key={e.key} className={`tl-item tl-${e.tone}`} data-testid="contract-event" data-event={e.key}>
            <span className="tl-dot" aria-hidden="true" />
            <div className="tl-body">
              <div className="tl-head">
                <strong>{e.text}</strong>
              </div>
              {e.note && <blockquote className="tl-comment">{e.note}</blockquote>}
              <div className="muted small">{i18n.formatDate(e.at)}</div>
            </div>
          </li>
        ))}
      </ol>
    </section>
  );
}

/**
 * The PDF as it now stands (every signature so far) and, once sent, the evidence package, each
 * fetched with the session when asked for.
 */
function DocumentCard({ contract }: { contract: Contract }) {
  const { t } = useI18n();
  const evidence = useEvidenceDownload();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const download = async () => {
    setBusy(true);
    setError(null);
    try {
      saveBlob(
        await api.contractDocument(contract.id),
        `${contract.title}${contract.status === 'draft' ? '' : t('contract.fileSuffix')}.pdf`,
      );
    } catch (failure) {
      setError(
        failure instanceof ApiError
          ? failure
          : new ApiError({ status: 0, code: 'network_error', detail: String(failure) }),
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card" data-testid="contract-document-card">
      <div className="card-head">
        <h2>{t('contract.document')}</h2>
        <div className="document-actions">
          <button
            type="button"
            className="button button-small"
            onClick={() => void download()}
            disabled={busy}
            data-testid="contract-download"
          >
            <Icon name="download" size={16} />
            {t('contract.download')}
          </button>
          <EvidenceButton contract={contract} state={evidence} />
        </div>
      </div>
      <p className="muted small mono cell-break" data-testid="contract-sha256">
        SHA-256 {contract.currentSha256}
      </p>
      {hasEvidence(contract.status) && <p className="muted small">{t('contract.evidenceHint')}</p>}
      <ProblemMessage error={error} testId="contract-download-problem" />
      <ProblemMessage error={evidence.error} testId="contract-evidence-problem" />
    </section>
  );
}

/** The contract's attachments: each to download; the sender adds PDFs and images to a draft. */
function Attachments({ contract, isSender }: { contract: Contract; isSender: boolean }) {
  const { t } = useI18n();
  const list = useQuery(['ContractPage.attachments', contract.id], (signal) =>
    api.contractAttachments(contract.id, signal),
  );
  const input = useRef<HTMLInputElement>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const canAdd = isSender && contract.status === 'draft';
  const items = list.data?.items ?? [];
  if (!canAdd && items.length === 0) return null;
  const failed = (failure: unknown) =>
    setError(
      failure instanceof ApiError
        ? failure
        : new ApiError({ status: 0, code: 'network_error', detail: String(failure) }),
    );
  const add = async (file: File) => {
    setBusy(true);
    setError(null);
    try {
      await api.attachToContract(contract.id, file);
      list.reload();
    } catch (failure) {
      failed(failure);
    } finally {
      setBusy(false);
      if (input.current) input.current.value = '';
    }
  };
  const download = async (attachment: ContractAttachment) => {
    setError(null);
    try {
      saveBlob(await api.contractAttachment(contract.id, attachment.id), attachment.name);
    } catch (failure) {
      failed(failure);
    }
  };
  return (
    <section className="card" data-testid="contract-attachments">
      <div className="card-head">
        <h2>{t('contract.attachments')}</h2>
        {canAdd && (
          <label className="button button-small">
            {busy ? t('common.saving') : t('contract.attach')}
            <input
              ref={input}
              type="file"
              accept="application/pdf,image/png,image/jpeg"
              hidden
              disabled={busy}
              onChange={(e) => {
                const file = e.target.files?.[0];
                if (file) void add(file);
              }}
              data-testid="contract-attach-input"
            />
          </label>
        )}
      </div>
      {items.length === 0 ? (
        <p className="muted small">{t('contract.attachmentsNone')}</p>
      ) : (
        <ul className="item-list" data-testid="contract-attachment-list">
          {items.map((a) => (
            <li key={a.id} className="item-row">
              <span>{a.name}</span>
              <span className="muted small">
                {a.mediaType === 'application/pdf' ? 'PDF' : a.mediaType === 'image/png' ? 'PNG' : 'JPEG'} ·{' '}
                {t('contract.attachmentSize', { kb: Math.max(1, Math.round(a.size / 1024)) })}
              </span>
              <button type="button" className="button button-small" onClick={() => void download(a)}>
                {t('contract.attachmentDownload')}
              </button>
            </li>
          ))}
        </ul>
      )}
      <ProblemMessage error={error ?? list.error} testId="contract-attachments-problem" />
    </section>
  );
}
