import type { ContractParticipant, ContractStatus, ParticipantStatus } from '../../api';
import { useI18n } from '../../i18n';

const contractTone: Record<ContractStatus, string> = {
  draft: 'muted',
  sent: 'info',
  signing: 'info',
  completed: 'ok',
  rejected: 'danger',
  voided: 'muted',
  expired: 'warn',
};

const participantTone: Record<ParticipantStatus, string> = {
  waiting: 'muted',
  active: 'info',
  done: 'ok',
  rejected: 'danger',
};

export function ContractStatusBadge({ status }: { status: ContractStatus }) {
  const { tx } = useI18n();
  return (
    <span className={`badge badge-${contractTone[status]}`} data-testid="contract-status" data-status={status}>
      {tx(`contractStatus.${status}`, status)}
    </span>
  );
}

export function ParticipantStatusBadge({ status }: { status: ParticipantStatus }) {
  const { tx } = useI18n();
  return (
    <span className={`badge badge-${participantTone[status]}`} data-testid="participant-status" data-status={status}>
      {tx(`participantStatus.${status}`, status)}
    </span>
  );
}

/** 王五（华夏贸易） for an organisation's person, the name alone otherwise. */
export function participantName(p: Pick<ContractParticipant, 'name' | 'orgName'>): string {
  return p.orgName ? `${p.name}（${p.orgName}）` : p.name;
}
