import type { ReactNode } from 'react';
import type { ApiError } from '../api';
import { useI18n } from '../i18n';
import { ProblemMessage } from './ProblemMessage';

export function PageHeader({ title, subtitle, actions }: { title: string; subtitle?: string; actions?: ReactNode }) {
  return (
    <div className="page-header">
      <div className="page-heading">
        <h1 data-testid="page-title">{title}</h1>
        {subtitle && <p className="muted">{subtitle}</p>}
      </div>
      {actions && <div className="page-actions">{actions}</div>}
    </div>
  );
}

export function Loading() {
  const { t } = useI18n();
  return (
    <div className="loading" aria-busy="true">
      <span className="spinner" aria-hidden="true" />
      {t('common.loading')}
    </div>
  );
}

/** What a list shows while loading, after a failure, or when empty. */
export function LoadState({
  loading,
  error,
  empty,
  onRetry,
  emptyText,
}: {
  loading: boolean;
  error: ApiError | null;
  empty: boolean;
  onRetry?: () => void;
  emptyText?: string;
}) {
  const { t } = useI18n();
  if (error)
    return (
      <div className="load-error">
        <ProblemMessage error={error} />
        {onRetry && (
          <button type="button" className="button" onClick={onRetry}>
            {t('common.retry')}
          </button>
        )}
      </div>
    );
  if (loading) return <Loading />;
  if (empty) return <p className="empty">{emptyText ?? t('common.empty')}</p>;
  return null;
}
