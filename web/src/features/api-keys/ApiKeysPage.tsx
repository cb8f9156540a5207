import { useState, type FormEvent } from 'react';
import { api, PERMISSIONS, type ApiKey, type Permission } from '../../api';
import { CompanySelect } from '../companies/CompanySelect';
import { Field } from '../../ui/Field';
import { Icon } from '../../ui/Icons';
import { ConfirmDialog, Modal } from '../../ui/Modal';
import { LoadState, PageHeader } from '../../ui/PageHeader';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { useToast } from '../../ui/Toast';
import { useDirectory } from '../users/directory';
import { useMutation, useQuery } from '../../hooks';
import { useI18n } from '../../i18n';
import { useCan } from '../../session';

export function ApiKeysPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const directory = useDirectory();
  const notify = useToast();
  const keys = useQuery(['ApiKeysPage.keys'], (signal) => api.apiKeys(signal));
  const [creating, setCreating] = useState(false);
  const [secret, setSecret] = useState<{ name: string; secret: string } | null>(null);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);
  const revoke = useMutation(
    (key: ApiKey) => api.revokeApiKey(key.id),
    () => {
      setRevoking(null);
      keys.reload();
    },
  );
  const items = keys.data?.items ?? [];

  return (
    <>
      <PageHeader
        title={t('apiKey.title')}
        subtitle={t('apiKey.subtitle')}
        actions={
          <button
            type="button"
            className="button button-primary"
            onClick={() => setCreating(true)}
            data-testid="api-key-new"
          >
            <Icon name="plus" size={16} />
            {t('apiKey.new')}
          </button>
        }
      />
      <section className="card card-flush">
        <LoadState loading={keys.loading} error={keys.error} empty={items.length === 0} onRetry={keys.reload} />
        {!keys.loading && items.length > 0 && (
          <table className="table responsive">
            <thead>
              <tr>
                <th>{t('apiKey.name')}</th>
                <th>{t('apiKey.prefix')}</th>
                <th>{t('user.company')}</th>
                <th>{t('apiKey.permissions')}</th>
                <th>{t('apiKey.expires')}</th>
                <th>{t('apiKey.lastUsed')}</th>
                <th className="actions-col">
                  <span className="sr-only">{t('common.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((k) => (
                <tr key={k.id} className={k.revokedAt ? 'row-muted' : undefined}>
                  <td data-label={t('apiKey.name')} className="cell-title">
                    {k.name}
                    {k.revokedAt && <span className="badge badge-muted">{t('apiKey.revoked')}</span>}
                  </td>
                  <td data-label={t('apiKey.prefix')} className="mono">
                    {k.prefix}…
                  </td>
                  <td data-label={t('user.company')}>{directory.nameOf(k.companyId)}</td>
                  <td data-label={t('apiKey.permissions')}>
                    {k.permissions.map((p) => i18n.tx(`perm.${p}`, p)).join('、')}
                  </td>
                  <td data-label={t('apiKey.expires')}>
                    {k.expiresAt ? i18n.formatDate(k.expiresAt, false) : t('apiKey.never')}
                  </td>
                  <td data-label={t('apiKey.lastUsed')}>{k.lastUsedAt ? i18n.formatDate(k.lastUsedAt) : '—'}</td>
                  <td className="actions-col">
                    {!k.revokedAt && (
                      <button type="button" className="button button-small" onClick={() => setRevoking(k)}>
                        {t('apiKey.revoke')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {creating && (
        <ApiKeyDialog
          onClose={() => setCreating(false)}
          onDone={(created) => {
            setCreating(false);
            setSecret({ name: created.key.name, secret: created.secret });
            keys.reload();
          }}
        />
      )}
      {secret && (
        <Modal title={t('apiKey.secretTitle')} onClose={() => setSecret(null)}>
          <p className="muted">{t('apiKey.secretHint')}</p>
          <p className="secret mono" data-testid="api-key-secret">
            {secret.secret}
          </p>
          <div className="form-actions">
            <button
              type="button"
              className="button button-primary"
              onClick={() => {
                void navigator.clipboard?.writeText(secret.secret).then(
                  () => notify(t('common.copied')),
                  () => undefined,
                );
              }}
            >
              {t('common.copy')}
            </button>
            <button type="button" className="button" onClick={() => setSecret(null)}>
              {t('common.close')}
            </button>
          </div>
        </Modal>
      )}
      {revoking && (
        <ConfirmDialog
          title={t('apiKey.revoke')}
          message={t('apiKey.revokeConfirm', { name: revoking.name })}
          confirmLabel={t('apiKey.revoke')}
          danger
          busy={revoke.busy}
          error={<ProblemMessage error={revoke.error} />}
          onConfirm={() => void revoke.run(revoking)}
          onCancel={() => setRevoking(null)}
        />
      )}
    </>
  );
}

function ApiKeyDialog({
  onDone,
  onClose,
}: {
  onDone: (r: { key: ApiKey; secret: string }) => void;
  onClose: () => void;
}) {
  const i18n = useI18n();
  const { t } = i18n;
  const can = useCan();
  const [name, setName] = useState('');
  const [companyId, setCompanyId] = useState('');
  const [permissions, setPermissions] = useState<Set<Permission>>(new Set(['org.read']));
  const [expires, setExpires] = useState('');
  const save = useMutation(
    () =>
      api.createApiKey({
        name: name.trim(),
        companyId,
        permissions: PERMISSIONS.filter((p) => permissions.has(p)),
        ...(expires ? { expiresAt: new Date(`${expires}T23:59:59`).toISOString() } : {}),
      }),
    onDone,
  );
  const fields = save.error?.fieldErrors() ?? {};
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void save.run();
  };
  const toggle = (p: Permission) =>
    setPermissions((previous) => {
      const next = new Set(previous);
      if (next.has(p)) next.delete(p);
      else next.add(p);
      return next;
    });
  return (
    <Modal title={t('apiKey.new')} onClose={onClose}>
      <form className="form" onSubmit={submit} noValidate>
        <ProblemMessage error={save.error} />
        <Field label={t('apiKey.name')} error={fields.name}>
          {(p) => (
            <input {...p} className="input" value={name} onChange={(e) => setName(e.target.value)} maxLength={100} />
          )}
        </Field>
        <Field label={t('user.company')} error={fields.companyId}>
          {(p) => (
            <CompanySelect
              {...p}
              value={companyId}
              onChange={setCompanyId}
              filter={(id) => can('api_keys.manage', id)}
            />
          )}
        </Field>
        <fieldset className="checks">
          <legend>{t('apiKey.permissions')}</legend>
          {PERMISSIONS.map((p) => (
            <label key={p} className="check">
              <input type="checkbox" checked={permissions.has(p)} onChange={() => toggle(p)} />
              <span>{i18n.tx(`perm.${p}`, p)}</span>
            </label>
          ))}
          {fields.permissions && <p className="field-error">{i18n.fieldText(fields.permissions)}</p>}
        </fieldset>
        <Field label={t('apiKey.expires')} optional error={fields.expiresAt}>
          {(p) => (
            <input {...p} className="input" type="date" value={expires} onChange={(e) => setExpires(e.target.value)} />
          )}
        </Field>
        <div className="form-actions">
          <button type="button" className="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button
            type="submit"
            className="button button-primary"
            disabled={save.busy || !name.trim() || !companyId || permissions.size === 0}
          >
            {save.busy ? t('common.saving') : t('common.create')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
