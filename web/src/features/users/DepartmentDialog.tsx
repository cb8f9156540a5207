import { useState, type FormEvent } from 'react';
import { api, type Department } from '../../api';
import { useMutation, useQuery } from '../../hooks';
import { useI18n } from '../../i18n';
import { Field } from '../../ui/Field';
import { Modal } from '../../ui/Modal';
import { ProblemMessage } from '../../ui/ProblemMessage';

/** Create a department of `companyId`, or rename one and choose its head. */
export function DepartmentDialog({
  companyId,
  department,
  onDone,
  onClose,
}: {
  companyId: string;
  department?: Department;
  onDone: (d: Department) => void;
  onClose: () => void;
}) {
  const { t } = useI18n();
  const [name, setName] = useState(department?.name ?? '');
  const [headUserId, setHeadUserId] = useState(department?.headUserId ?? '');
  const people = useQuery(['DepartmentDialog.people', companyId], (signal) =>
    api.users({ companyId, status: 'active', limit: 500 }, signal),
  );
  const save = useMutation(
    () =>
      department
        ? api.updateDepartment(department.id, { name: name.trim(), headUserId: headUserId || null })
        : api.createDepartment({ companyId, name: name.trim(), headUserId: headUserId || null }),
    onDone,
  );
  const fields = save.error?.fieldErrors() ?? {};
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void save.run();
  };
  return (
    <Modal title={department ? t('department.edit') : t('department.new')} onClose={onClose} testId="department-dialog">
      <form className="form" onSubmit={submit} noValidate>
        <ProblemMessage error={save.error} testId="department-error" />
        <Field label={t('department.name')} error={fields.name}>
          {(p) => (
            <input
              {...p}
              className="input"
              value={name}
              onChange={(e) => setName(e.target.value)}
              maxLength={100}
              required
              data-testid="department-name-input"
            />
          )}
        </Field>
        <Field label={t('department.head')} optional error={fields.headUserId}>
          {(p) => (
            <select
              {...p}
              className="input"
              value={headUserId}
              onChange={(e) => setHeadUserId(e.target.value)}
              disabled={people.loading}
              data-testid="department-head-select"
            >
              <option value="">{t('department.noHead')}</option>
              {people.data?.items.map((u) => (
                <option key={u.id} value={u.id}>
                  {u.name} · {u.email}
                </option>
              ))}
            </select>
          )}
        </Field>
        <div className="form-actions">
          <button type="button" className="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button
            type="submit"
            className="button button-primary"
            disabled={save.busy || !name.trim()}
            data-testid="department-save"
          >
            {save.busy ? t('common.saving') : department ? t('common.save') : t('common.create')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
