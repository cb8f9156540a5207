import { useState, type FormEvent } from 'react';
import { api, type Locale, type UserDetail } from '../../api';
import { useDepartments } from './departments';
import { useMutation } from '../../hooks';
import { useI18n } from '../../i18n';
import { useCan } from '../../session';
import { CompanySelect } from '../companies/CompanySelect';
import { Field } from '../../ui/Field';
import { Modal } from '../../ui/Modal';
import { ProblemMessage } from '../../ui/ProblemMessage';

export function UserCreateDialog({
  initialCompanyId,
  onDone,
  onClose,
}: {
  initialCompanyId: string;
  onDone: (user: UserDetail) => void;
  onClose: () => void;
}) {
  const { t, locale: uiLocale } = useI18n();
  const can = useCan();
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [companyId, setCompanyId] = useState(
    initialCompanyId && can('org.write', initialCompanyId) ? initialCompanyId : '',
  );
  const [departmentId, setDepartmentId] = useState('');
  const [phone, setPhone] = useState('');
  const [locale, setLocale] = useState<Locale>(uiLocale);
  const [password, setPassword] = useState('');
  const departments = useDepartments(companyId);

  const save = useMutation(
    () =>
      api.createUser({
        email: email.trim(),
        name: name.trim(),
        companyId,
        departmentId: departmentId || null,
        phone: phone.trim() || null,
        locale,
        password,
      }),
    onDone,
  );
  const fields = save.error?.fieldErrors() ?? {};
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void save.run();
  };

  return (
    <Modal title={t('user.new')} onClose={onClose} testId="user-dialog">
      <form className="form" onSubmit={submit} noValidate>
        <ProblemMessage error={save.error} testId="user-error" />
        <div className="form-grid">
          <Field label={t('user.name')} error={fields.name}>
            {(p) => (
              <input
                {...p}
                className="input"
                value={name}
                onChange={(e) => setName(e.target.value)}
                maxLength={100}
                autoComplete="off"
                data-testid="user-name"
              />
            )}
          </Field>
          <Field label={t('user.email')} error={fields.email}>
            {(p) => (
              <input
                {...p}
                className="input"
                type="email"
                value={email}
                onChange={(e) => setEmail(e.target.value)}
                autoComplete="off"
                data-testid="user-email"
              />
            )}
          </Field>
          <Field label={t('user.company')} error={fields.companyId}>
            {(p) => (
              <CompanySelect
                {...p}
                value={companyId}
                onChange={(id) => {
                  setCompanyId(id);
                  setDepartmentId('');
                }}
                filter={(id) => can('org.write', id)}
                data-testid="user-company"
              />
            )}
          </Field>
          <Field label={t('user.department')} optional error={fields.departmentId}>
            {(p) => (
              <select
                {...p}
                className="input"
                value={departmentId}
                onChange={(e) => setDepartmentId(e.target.value)}
                disabled={!companyId}
                data-testid="user-department"
              >
                <option value="">{t('department.none')}</option>
                {departments.map((d) => (
                  <option key={d.id} value={d.id}>
                    {d.name}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t('user.phone')} optional error={fields.phone}>
            {(p) => (
              <input
                {...p}
                className="input"
                type="tel"
                value={phone}
                onChange={(e) => setPhone(e.target.value)}
                autoComplete="off"
                data-testid="user-phone"
              />
            )}
          </Field>
          <Field label={t('user.locale')} error={fields.locale}>
            {(p) => (
              <select
                {...p}
                className="input"
                value={locale}
                onChange={(e) => setLocale(e.target.value === 'en' ? 'en' : 'zh-CN')}
                data-testid="user-locale"
              >
                <option value="zh-CN">{t('lang.zh')}</option>
                <option value="en">{t('lang.en')}</option>
              </select>
            )}
          </Field>
          <Field label={t('user.password')} hint={t('user.passwordHint')} error={fields.password} className="span-2">
            {(p) => (
              <input
                {...p}
                className="input"
                type="password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                autoComplete="new-password"
                minLength={10}
                data-testid="user-password"
              />
            )}
          </Field>
        </div>
        <div className="form-actions">
          <button type="button" className="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button
            type="submit"
            className="button button-primary"
            disabled={save.busy || !companyId}
            data-testid="user-create-submit"
          >
            {save.busy ? t('common.saving') : t('common.create')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
