import { useState, type FormEvent } from 'react';
import { api, ROLES, type Role, type RoleAssignment } from '../../api';
import { useMutation } from '../../hooks';
import { roleName, useI18n } from '../../i18n';
import { useCan } from '../../session';
import { CompanySelect } from '../companies/CompanySelect';
import { Field } from '../../ui/Field';
import { ProblemMessage } from '../../ui/ProblemMessage';

/**
 * Gives a person a role over a company subtree. A refusal (separation of duties,
 * self-assignment) stays on screen with its reason until the next attempt.
 */
export function RoleAssignForm({
  userId,
  defaultCompanyId,
  onAssigned,
}: {
  userId: string;
  defaultCompanyId: string;
  onAssigned: (a: RoleAssignment) => void;
}) {
  const i18n = useI18n();
  const { t } = i18n;
  const can = useCan();
  const [role, setRole] = useState<Role>('employee');
  const [companyId, setCompanyId] = useState(can('roles.assign', defaultCompanyId) ? defaultCompanyId : '');
  const assign = useMutation(() => api.assignRole({ userId, role, companyId }), onAssigned);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void assign.run();
  };
  return (
    <form className="form assign-form" onSubmit={submit} data-testid="role-assign-form">
      <div className="form-row">
        <Field label={t('role.role')}>
          {(p) => (
            <select
              {...p}
              className="input"
              value={role}
              onChange={(e) => {
                setRole(e.target.value as Role);
                assign.reset();
              }}
              data-testid="role-select"
            >
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {roleName(i18n, r)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('role.scope')} hint={t('role.scopeHint')}>
          {(p) => (
            <CompanySelect
              {...p}
              value={companyId}
              onChange={(id) => {
                setCompanyId(id);
                assign.reset();
              }}
              filter={(id) => can('roles.assign', id)}
              data-testid="role-company"
            />
          )}
        </Field>
        <div className="form-row-action">
          <button
            type="submit"
            className="button button-primary"
            disabled={assign.busy || !companyId}
            data-testid="role-assign-submit"
          >
            {assign.busy ? t('common.saving') : t('role.assign')}
          </button>
        </div>
      </div>
      <ProblemMessage error={assign.error} testId="role-error" />
    </form>
  );
}
