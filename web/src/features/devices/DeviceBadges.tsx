import type { I18n } from '../../i18n';
import { useI18n } from '../../i18n';

const severityTone: Record<string, string> = { critical: 'danger', high: 'danger', medium: 'warn', low: 'muted' };

export function SeverityBadge({ severity }: { severity: string }) {
  const i18n = useI18n();
  return (
    <span className={`badge badge-${severityTone[severity] ?? 'muted'}`} data-severity={severity}>
      {i18n.tx(`severity.${severity}`, severity)}
    </span>
  );
}

/** A finding's kind (docs/device-protocol.md §9) in the reader's words, or the code itself. */
export function findingKindName(i18n: I18n, kind: string): string {
  return i18n.tx(`findingKind.${kind}`, kind);
}

/** A device event's type (§8) in the reader's words. */
export function eventTypeName(i18n: I18n, type: string): string {
  return i18n.tx(`deviceEvent.${type}`, type);
}

export function LockBadge({ locked }: { locked: boolean }) {
  const { t } = useI18n();
  return locked ? (
    <span className="badge badge-danger" data-testid="device-lock-state" data-locked="true">
      {t('device.remoteLocked')}
    </span>
  ) : (
    <span className="badge badge-ok" data-testid="device-lock-state" data-locked="false">
      {t('device.notLocked')}
    </span>
  );
}
