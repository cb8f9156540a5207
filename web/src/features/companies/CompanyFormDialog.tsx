import { useState, type FormEvent } from 'react';
import { api, type Company } from '../../api';
import { useMutation } from '../../hooks';
import { useI18n } from '../../i18n';
import { Field } from '../../ui/Field';
import { Modal } from '../../ui/Modal';
import { ProblemMessage } from '../../ui/ProblemMessage';

/** Create a subsidiary under `parent`, or rename / re-code `company`. */
export function CompanyFormDialog({
  parent,
  company,
  onDone,
  onClose,
}: {
  parent?: Company;
  company?: Company;
  onDone: (company: Company) => void;
  onClose: () => void;
}) {
  const { t } = useI18n();
  const [name, setName] = useState(company?.name ?? '');
  const [code, setCode] = useState(company?.code ?? '');
  const save = useMutation(
    () =>
      company
        ? api.updateCompany(company.id, { name: name.trim(), code: code.trim() })
        : api.createCompany({ parentId: parent?.id ?? '', name: name.trim(), code: code.trim() }),
    onDone,
  );
  const fields = save.error?.fieldErrors() ?? {};
  const title = company
    ? t('company.renameTitle', { name: company.name })
    : t('company.newSubsidiaryUnder', { name: parent?.name ?? '' });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void save.run();
  };

  return (
    <Modal title={title} onClose={onClose} testId="company-dialog">
      <form onSubmit={submit} className="form" noValidate>
        <ProblemMessage error={save.error} testId="company-error" />
        <Field label={t('company.name')} error={fields.name}>
          {(p) => (
            <input
              {...p}
              className="input"
              value={name}
              onChange={(e) => setName(e.target.value)}
              maxLength={200}
              required
              data-testid="company-name-input"
            />
          )}
        </Field>
        <Field label={t('company.code')} hint={t('company.codeHint')} error={fields.code}>
          {(p) => (
            <input
              {...p}
              className="input input-mono"
              value={code}
              onChange={(e) => setCode(e.target.value)}
              maxLength={40}
              required
              autoCapitalize="characters"
              data-testid="company-code-input"
            />
          )}
        </Field>
        <div className="form-actions">
          <button type="button" className="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button
            type="submit"
            className="button button-primary"
            disabled={save.busy || !name.trim() || !code.trim()}
            data-testid="company-save"
          >
            {save.busy ? t('common.saving') : company ? t('common.save') : t('common.create')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
