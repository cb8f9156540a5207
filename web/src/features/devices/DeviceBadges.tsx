import { useDevicesText, type DevicesText } from './i18n';

const severityTone: Record<string, string> = { critical: 'danger', high: 'danger', medium: 'warn', low: 'muted' };

export function SeverityBadge({ severity }: { severity: string }) {
  const d = useDevicesText();
  return (
    <span className={`badge badge-${severityTone[severity] ?? 'muted'}`} data-severity={severity}>
      {d.tx(`severity.${severity}`, severity)}
    </span>
  );
}

/** A finding's kind (docs/device-protocol.md §9) in the reader's words, or the code itself. */
export function findingKindName(d: DevicesText, kind: string): string {
  return d.tx(`findingKind.${kind}`, kind);
}

/** A device event's type (§8) in the reader's words. */
export function eventTypeName(d: DevicesText, type: string): string {
  return d.tx(`deviceEvent.${type}`, type);
}

export function LockBadge({ locked }: { locked: boolean }) {
  const d = useDevicesText();
  return locked ? (
    <span className="badge badge-danger" data-testid="device-lock-state" data-locked="true">
      {d('device.remoteLocked')}
    </span>
  ) : (
    <span className="badge badge-ok" data-testid="device-lock-state" data-locked="false">
      {d('device.notLocked')}
    </span>
  );
}
