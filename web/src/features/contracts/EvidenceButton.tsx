import { useCallback, useState } from 'react';
import { api, ApiError, type ContractStatus } from '../../api';
import { useI18n } from '../../i18n';
import { saveBlob } from '../../ui/download';
import { Icon } from '../../ui/Icons';

/** Whether a contract has an evidence package: every one that was sent (a draft has no trail yet). */
export const hasEvidence = (status: ContractStatus) => status !== 'draft';

export interface EvidenceDownload {
  /** The contract being fetched, if any: one at a time. */
  busyId: string | null;
  error: ApiError | null;
  download(contract: { id: string; title: string }): Promise<void>;
}

/**
 * Fetches a contract's evidence package with the session (a plain link would carry no token) and
 * saves it under the contract's title; the problem, if any, is kept for the page to show once.
 */
export function useEvidenceDownload(): EvidenceDownload {
  const { t } = useI18n();
  const [busyId, setBusyId] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const download = useCallback(
    async (contract: { id: string; title: string }) => {
      setBusyId(contract.id);
      setError(null);
      try {
        saveBlob(await api.contractEvidence(contract.id), `${contract.title}${t('contract.evidenceSuffix')}.zip`);
      } catch (failure) {
        setError(
          failure instanceof ApiError
            ? failure
            : new ApiError({ status: 0, code: 'network_error', detail: String(failure) }),
        );
      } finally {
        setBusyId(null);
      }
    },
    [t],
  );
  return { busyId, error, download };
}

/** The evidence package's download button, for a contract that has one. */
export function EvidenceButton({
  contract,
  state,
  compact = false,
}: {
  contract: { id: string; title: string; status: ContractStatus };
  state: EvidenceDownload;
  /** Only the icon (a table's last column); its name stays for screen readers and as a tooltip. */
  compact?: boolean;
}) {
  const { t } = useI18n();
  if (!hasEvidence(contract.status)) return null;
  const busy = state.busyId === contract.id;
  return (
    <button
      type="button"
      className="button button-small"
      onClick={() => void state.download(contract)}
      disabled={busy}
      aria-label={t('contract.evidenceFor', { title: contract.title })}
      title={compact ? t('contract.evidence') : t('contract.evidenceHint')}
      data-testid="contract-evidence"
      data-contract={contract.id}
    >
      <Icon name="download" size={16} />
      {compact ? (
        <span className="sr-only">{t('contract.evidence')}</span>
      ) : busy ? (
        t('common.loading')
      ) : (
        t('contract.evidence')
      )}
    </button>
  );
}
