import type { AuditEvent } from '../../api';
import { useDirectory } from '../users/directory';
import { roleName, statusName, useI18n, type I18n } from '../../i18n';

type Lookup = (id: string | null | undefined) => string;

function formatValue(i18n: I18n, companyName: Lookup, key: string, value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'string') {
    if (key === 'role') return roleName(i18n, value);
    if (key === 'status' || key === 'from' || key === 'to') return statusName(i18n, value);
    if (key === 'companyId' || key === 'parentId') return companyName(value);
    if (/Id$/.test(key) && /^[0-9a-f-]{36}$/.test(value)) return value.slice(0, 8);
    // File hashes (inputSha256, outputSha256 …) are recognised by their start, like a commit.
    if (/Sha256$/.test(key) && /^[0-9a-f]{64}$/.test(value)) return `${value.slice(0, 12)}…`;
    return value;
  }
  if (Array.isArray(value)) {
    return value
      .map((v) =>
        Array.isArray(v) ? v.map((r) => roleName(i18n, String(r))).join(' × ') : formatValue(i18n, companyName, key, v),
      )
      .join(', ');
  }
  if (typeof value === 'boolean') return i18n.t(value ? 'common.yes' : 'common.no');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** An event's `changes` as short lines: "name: Old → New" for updates, "key: value" otherwise. */
export function AuditChanges({ event }: { event: AuditEvent }) {
  const i18n = useI18n();
  const directory = useDirectory();
  const { changes } = event;
  const lookup: Lookup = (id) => directory.nameOf(id);
  const isDiff =
    changes.from &&
    changes.to &&
    typeof changes.from === 'object' &&
    typeof changes.to === 'object' &&
    !Array.isArray(changes.to);
  const lines: Array<[string, string]> = isDiff
    ? Object.keys(changes.to as Record<string, unknown>).map((key) => [
        key,
        `${formatValue(i18n, lookup, key, (changes.from as Record<string, unknown>)[key])} → ${formatValue(i18n, lookup, key, (changes.to as Record<string, unknown>)[key])}`,
      ])
    : Object.entries(changes)
        .filter(([key]) => key !== 'assignmentId' && key !== 'sessionId')
        .map(([key, value]) => [key, formatValue(i18n, lookup, key, value)]);
  if (event.action === 'user.status_changed') {
    const from = formatValue(i18n, lookup, 'status', changes.from);
    const to = formatValue(i18n, lookup, 'status', changes.to);
    lines.splice(
      0,
      lines.length,
      ['status', `${from} → ${to}`],
      ...(changes.reason ? [['reason', String(changes.reason)] as [string, string]] : []),
    );
  }
  if (lines.length === 0) return <span className="muted">—</span>;
  return (
    <ul className="changes">
      {lines.map(([key, text]) => (
        <li key={key}>
          <span className="change-key">{key}</span> {text}
        </li>
      ))}
    </ul>
  );
}
