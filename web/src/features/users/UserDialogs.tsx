import { useState, type FormEvent } from 'react';
import { api, type Locale, type UserDetail, type UserStatus } from '../../api';
import { useDepartments } from './departments';
import { useMutation } from '../../hooks';
import { useI18n } from '../../i18n';
import { Field } from '../../ui/Field';
import { ConfirmDialog, Modal } from '../../ui/Modal';
import { ProblemMessage } from '../../ui/ProblemMessage';

/** Suspend, reactivate or mark resigned, with an optional reason; resigning is final. */
export function StatusDialog({
  user,
  status,
  onDone,
  onClose,
}: {
  user: UserDetail;
  status: UserStatus;
  onDone: (u: UserDetail) => void;
  onClose: () => void;
}) {
  const { t } = useI18n();
  const [reason, setReason] = useState('');
  const change = useMutation(
    () => api.setUserStatus(user.id, { status, ...(reason.trim() ? { reason: reason.trim() } : {}) }),
    onDone,
  );
  const copy = {
    active: { title: t('user.reactivate'), message: t('user.reactivateConfirm', { name: user.name }) },
    suspended: { title: t('user.suspend'), message: t('user.suspendConfirm', { name: user.name }) },
    resigned: { title: t('user.resign'), message: t('user.resignConfirm', { name: user.name }) },
  }[status];
  return (
    <ConfirmDialog
      title={copy.title}
      message={copy.message}
      confirmLabel={copy.title}
      danger={status !== 'active'}
      busy={change.busy}
      onConfirm={() => void change.run()}
      onCancel={onClose}
      error={<ProblemMessage error={change.error} testId="status-error" />}
    >
      <Field label={t('user.reason')} optional>
        {(p) => (
          <textarea
            {...p}
            className="input"
            rows={2}
            maxLength={500}
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            data-testid="status-reason"
          />
        )}
      </Field>
    </ConfirmDialog>
  );
}

export function PasswordDialog({
  user,
  onDone,
  onClose,
}: {
  user: UserDetail;
  onDone: () => void;
  onClose: () => void;
}) {
  const { t } = useI18n();
  const [password, setPassword] = useState('');
  const save = useMutation(() => api.resetPassword(user.id, password), onDone);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void save.run();
  };
  return (
    <Modal title={`${t('user.resetPassword')} · ${user.name}`} onClose={onClose}>
      <form className="form" onSubmit={submit} noValidate>
        <ProblemMessage error={save.error} />
        <Field label={t('user.newPassword')} hint={t('user.passwordHint')} error={save.error?.fieldErrors().password}>
          {(p) => (
            <input
              {...p}
              className="input"
              type="password"
              autoComplete="new-password"
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              minLength={10}
            />
          )}
        </Field>
        <div className="form-actions">
          <button type="button" className="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="button button-primary" disabled={save.busy || password.length === 0}>
            {save.busy ? t('common.saving') : t('common.save')}
          </button>
        </div>
      </form>
    </Modal>
  );
}

export function ProfileDialog({
  user,
  onDone,
  onClose,
}: {
  user: UserDetail;
  onDone: (u: UserDetail) => void;
  onClose: () => void;
}) {
  const { t } = useI18n();
  const [name, setName] = useState(user.name);
  const [phone, setPhone] = useState(user.phone ?? '');
  const [departmentId, setDepartmentId] = useState(user.departmentId ?? '');
  const [locale, setLocale] = useState<Locale>(user.locale);
  const departments = useDepartments(user.companyId);
  const save = useMutation(
    () =>
      api.updateUser(user.id, {
        name: name.trim(),
        phone: phone.trim() || null,
        departmentId: departmentId || null,
        locale,
      }),
    onDone,
  );
  const fields = save.error?.fieldErrors() ?? {};
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void save.run();
  };
  return (
    <Modal title={t('user.editProfile')} onClose={onClose}>
      <form className="form" onSubmit={submit} noValidate>
        <ProblemMessage error={save.error} />
        <Field label={t('user.name')} error={fields.name}>
          {(p) => (
            <input {...p} className="input" value={name} onChange={(e) => setName(e.target.value)} maxLength={100} />
          )}
        </Field>
        <Field label={t('user.phone')} optional error={fields.phone}>
          {(p) => (
            <input {...p} className="input" type="tel" value={phone} onChange={(e) => setPhone(e.target.value)} />
          )}
        </Field>
        <Field label={t('user.department')} optional error={fields.departmentId}>
          {(p) => (
            <select {...p} className="input" value={departmentId} onChange={(e) => setDepartmentId(e.target.value)}>
              <option value="">{t('department.none')}</option>
              {departments.map((d) => (
                <option key={d.id} value={d.id}>
                  {d.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('user.locale')}>
          {(p) => (
            <select
              {...p}
              className="input"
              value={locale}
              onChange={(e) => setLocale(e.target.value === 'en' ? 'en' : 'zh-CN')}
            >
              <option value="zh-CN">{t('lang.zh')}</option>
              <option value="en">{t('lang.en')}</option>
            </select>
          )}
        </Field>
        <div className="form-actions">
          <button type="button" className="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="button button-primary" disabled={save.busy || !name.trim()}>
            {save.busy ? t('common.saving') : t('common.save')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
