import { useState, type FormEvent } from 'react';
import { api, type Post, type UserDetail } from '../../api';
import { useDepartmentNames, useDepartments } from './departments';
import { useDirectory } from './directory';
import { useMutation } from '../../hooks';
import { useI18n } from '../../i18n';
import { CompanySelect } from '../companies/CompanySelect';
import { Field } from '../../ui/Field';
import { ConfirmDialog } from '../../ui/Modal';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { useToast } from '../../ui/Toast';

/** Additional posts: a person may also work for another company or department. */
export function PostsSection({
  user,
  canWrite,
  onChange,
}: {
  user: UserDetail;
  canWrite: boolean;
  onChange: (u: UserDetail) => void;
}) {
  const { t, formatDate } = useI18n();
  const directory = useDirectory();
  const notify = useToast();
  const [companyId, setCompanyId] = useState('');
  const [departmentId, setDepartmentId] = useState('');
  const [title, setTitle] = useState('');
  const [removing, setRemoving] = useState<Post | null>(null);
  const departments = useDepartments(companyId);
  const names = useDepartmentNames(user.posts.filter((p) => p.departmentId).map((p) => p.companyId));

  const add = useMutation(
    () => api.addPost(user.id, { companyId, departmentId: departmentId || null, title: title.trim() }),
    (updated) => {
      setTitle('');
      setDepartmentId('');
      notify(t('post.added'));
      onChange(updated);
    },
  );
  const remove = useMutation(
    (post: Post) => api.removePost(user.id, post.id),
    (updated) => {
      setRemoving(null);
      notify(t('post.removed'));
      onChange(updated);
    },
  );
  const fields = add.error?.fieldErrors() ?? {};
  const submit = (event: FormEvent) => {
    event.preventDefault();
    void add.run();
  };

  return (
    <section className="card">
      <h2>{t('post.title')}</h2>
      <p className="muted small">{t('post.hint')}</p>
      {user.posts.length === 0 ? (
        <p className="empty">{t('post.none')}</p>
      ) : (
        <ul className="item-list" data-testid="post-list">
          {user.posts.map((post) => (
            <li key={post.id}>
              <div>
                <strong>{post.title}</strong>
                <div className="muted small">
                  {directory.nameOf(post.companyId)}
                  {post.departmentId && ` · ${names.get(post.departmentId) ?? '…'}`} ·{' '}
                  {formatDate(post.createdAt, false)}
                </div>
              </div>
              {canWrite && (
                <button type="button" className="button button-small" onClick={() => setRemoving(post)}>
                  {t('common.remove')}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {canWrite && user.status !== 'resigned' && (
        <form className="form" onSubmit={submit} noValidate>
          <ProblemMessage error={add.error} />
          <div className="form-row">
            <Field label={t('user.company')} error={fields.companyId}>
              {(p) => (
                <CompanySelect
                  {...p}
                  value={companyId}
                  onChange={(id) => {
                    setCompanyId(id);
                    setDepartmentId('');
                  }}
                  data-testid="post-company"
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
            <Field label={t('post.jobTitle')} error={fields.title}>
              {(p) => (
                <input
                  {...p}
                  className="input"
                  value={title}
                  onChange={(e) => setTitle(e.target.value)}
                  maxLength={100}
                  data-testid="post-title"
                />
              )}
            </Field>
            <div className="form-row-action">
              <button
                type="submit"
                className="button"
                disabled={add.busy || !companyId || !title.trim()}
                data-testid="post-add"
              >
                {t('post.add')}
              </button>
            </div>
          </div>
        </form>
      )}
      {removing && (
        <ConfirmDialog
          title={t('common.remove')}
          message={t('post.removeConfirm', { title: removing.title })}
          confirmLabel={t('common.remove')}
          danger
          busy={remove.busy}
          error={<ProblemMessage error={remove.error} />}
          onConfirm={() => void remove.run(removing)}
          onCancel={() => setRemoving(null)}
        />
      )}
    </section>
  );
}
