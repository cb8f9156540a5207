import type { SignProblem } from './api';
import type { Text } from './text';

/** Codes that end the visit: the link or the contract can no longer be used, whatever is tried. */
const CLOSING = new Set<SignProblem['code']>([
  'signing_link_invalid',
  'signing_link_expired',
  'signing_link_used',
  'signing_link_locked',
  'contract_state',
  'contract_out_of_order',
]);

export const isClosing = (problem: SignProblem): boolean => CLOSING.has(problem.code);

/** A problem in the signer's words: the codes a signer meets are worded here, others quote the server. */
export function problemText({ t }: Text, problem: SignProblem): string {
  // The identity checks' codes, until the generated types list them.
  const code: string = problem.code;
  if (code === 'identity_check_required' || code === 'identity_check_pending') return t('idv.required');
  if (code === 'identity_check_failed') return t('idv.failed', { reason: '' });
  switch (problem.code) {
    case 'signing_link_invalid':
    case 'signing_link_expired':
    case 'signing_link_used':
    case 'signing_link_locked':
      return t(`link.${problem.code}`);
    case 'contract_state': {
      const status = problem.params.status;
      return status === 'completed' || status === 'rejected' || status === 'voided' || status === 'expired'
        ? t(`contract.${status}`)
        : t('contract.other');
    }
    case 'contract_out_of_order': {
      // An earlier step still open: not yet; otherwise this signer has already acted.
      const step = problem.number('step');
      const current = problem.number('currentStep');
      return step !== null && current !== null && step > current ? t('link.notYourTurn') : t('link.alreadySigned');
    }
    case 'contract_changed':
      return t('doc.changed');
    case 'signing_session_invalid':
      return t('session.ended');
    case 'rate_limited':
      return t('problem.rate_limited', { seconds: problem.number('retryAfterSeconds') ?? 60 });
    case 'network_error':
      return t('problem.network');
    default:
      return t('problem.other', { detail: problem.detail });
  }
}
