import { roleName, statusName, useI18n } from '../i18n';

const tone: Record<string, string> = { active: 'ok', closed: 'muted', suspended: 'warn', resigned: 'muted' };

export function StatusBadge({ status }: { status: string }) {
  const i18n = useI18n();
  return (
    <span className={`badge badge-${tone[status] ?? 'muted'}`} data-status={status}>
      {statusName(i18n, status)}
    </span>
  );
}

export function RoleBadge({ role }: { role: string }) {
  const i18n = useI18n();
  return (
    <span className={`badge badge-role role-${role}`} data-role={role}>
      {roleName(i18n, role)}
    </span>
  );
}
