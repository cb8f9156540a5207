import { useEffect, useRef, useState } from 'react';
import { api, type Company } from '../../api';
import { CompanyFormDialog } from './CompanyFormDialog';
import { CompanyTree } from './CompanyTree';
import { Icon } from '../../ui/Icons';
import { ConfirmDialog } from '../../ui/Modal';
import { LoadState, PageHeader } from '../../ui/PageHeader';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { StatusBadge } from '../../ui/StatusBadge';
import { useToast } from '../../ui/Toast';
import { useDirectory } from '../users/directory';
import { useIsPhone, useMutation, useQuery } from '../../hooks';
import { useI18n } from '../../i18n';
import { href, Link, navigate, useLocation } from '../../router';
import { useCan } from '../../session';

type Dialog =
  | { kind: 'create'; parent: Company }
  | { kind: 'rename'; company: Company }
  | { kind: 'status'; company: Company }
  | null;

export function CompaniesPage() {
  const { t } = useI18n();
  const directory = useDirectory();
  const { query } = useLocation();
  const isPhone = useIsPhone();
  const [search, setSearch] = useState('');
  const [debounced, setDebounced] = useState('');
  const [dialog, setDialog] = useState<Dialog>(null);
  const detailRef = useRef<HTMLElement>(null);

  const selectedId = query.get('company') ?? directory.roots[0]?.id ?? null;
  const selected = selectedId ? directory.byId.get(selectedId) : undefined;

  useEffect(() => {
    const timer = setTimeout(() => setDebounced(search.trim()), 250);
    return () => clearTimeout(timer);
  }, [search]);

  const results = useQuery(['CompaniesPage.results', debounced], (signal) =>
    debounced ? api.companies({ q: debounced, limit: 50 }, signal) : Promise.resolve(null),
  );

  const select = (id: string, options: { reveal?: boolean } = {}) => {
    navigate(href('/companies', { company: id }), { replace: true });
    if (options.reveal && isPhone)
      requestAnimationFrame(() => detailRef.current?.scrollIntoView({ behavior: 'smooth', block: 'start' }));
  };

  const chooseResult = (company: Company) => {
    directory.upsert(company);
    setSearch('');
    select(company.id, { reveal: true });
  };

  return (
    <>
      <PageHeader title={t('company.title')} subtitle={t('company.subtitle')} />
      <div className="split">
        <section className="card tree-card">
          <div className="search-box">
            <Icon name="search" size={16} />
            <input
              type="search"
              className="input"
              placeholder={t('company.searchPlaceholder')}
              value={search}
              onChange={(e) => setSearch(e.target.value)}
              aria-label={t('common.search')}
              data-testid="company-search"
            />
          </div>
          {debounced ? (
            <SearchResults
              loading={results.loading}
              items={results.data?.items ?? []}
              error={results.error}
              onChoose={chooseResult}
            />
          ) : (
            <>
              <LoadState
                loading={directory.loading}
                error={directory.error}
                empty={directory.roots.length === 0}
                onRetry={directory.reload}
              />
              {!directory.loading && (
                <CompanyTree selectedId={selectedId} onSelect={(id) => select(id, { reveal: true })} />
              )}
              {directory.truncated && (
                <p className="muted small">{t('company.truncated', { n: directory.byId.size })}</p>
              )}
            </>
          )}
        </section>
        <section className="card detail-card" ref={detailRef} aria-live="polite">
          {selected ? (
            <CompanyDetail company={selected} onDialog={setDialog} />
          ) : (
            <p className="muted">{t('company.selectHint')}</p>
          )}
        </section>
      </div>
      <CompanyDialogs dialog={dialog} onClose={() => setDialog(null)} onSelect={(id) => select(id)} />
    </>
  );
}

function SearchResults({
  loading,
  items,
  error,
  onChoose,
}: {
  loading: boolean;
  items: Company[];
  error: ReturnType<typeof useQuery>['error'];
  onChoose: (c: Company) => void;
}) {
  const { t } = useI18n();
  const directory = useDirectory();
  return (
    <>
      <LoadState loading={loading} error={error} empty={items.length === 0} emptyText={t('common.noResults')} />
      {!loading && (
        <ul className="result-list" data-testid="company-results">
          {items.map((c) => (
            <li key={c.id}>
              <button
                type="button"
                className="result"
                onClick={() => onChoose(c)}
                data-testid={`company-result-${c.code}`}
              >
                <span className="result-title">
                  {c.name} <span className="code">{c.code}</span>
                </span>
                <span className="muted small">
                  {directory
                    .ancestry(c.id)
                    .slice(0, -1)
                    .map((a) => a.name)
                    .join(' › ')}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function CompanyDetail({ company, onDialog }: { company: Company; onDialog: (d: Dialog) => void }) {
  const { t, formatDate } = useI18n();
  const directory = useDirectory();
  const can = useCan();
  const canWrite = can('org.write', company.id);
  const parent = company.parentId ? directory.byId.get(company.parentId) : undefined;
  const children = directory.childrenOf(company.id);
  return (
    <div data-testid="company-detail">
      <div className="detail-head">
        <div>
          <h2 data-testid="company-detail-name">{company.name}</h2>
          <div className="detail-sub">
            <span className="code">{company.code}</span>
            <StatusBadge status={company.status} />
          </div>
        </div>
      </div>
      <dl className="facts">
        <div>
          <dt>{t('company.parent')}</dt>
          <dd>
            {parent ? (
              <button
                type="button"
                className="link"
                onClick={() => navigate(href('/companies', { company: parent.id }), { replace: true })}
              >
                {parent.name}
              </button>
            ) : company.parentId ? (
              '—'
            ) : (
              t('company.head')
            )}
          </dd>
        </div>
        <div>
          <dt>{t('company.level')}</dt>
          <dd>{t('company.levelValue', { n: company.depth + 1 })}</dd>
        </div>
        <div>
          <dt>{t('company.children')}</dt>
          <dd>{company.childCount ?? children.length}</dd>
        </div>
        <div>
          <dt>{t('common.createdAt')}</dt>
          <dd>{formatDate(company.createdAt, false)}</dd>
        </div>
      </dl>
      <div className="button-row">
        {canWrite && company.status === 'active' && (
          <button
            type="button"
            className="button button-primary"
            onClick={() => onDialog({ kind: 'create', parent: company })}
            data-testid="company-new-sub"
          >
            <Icon name="plus" size={16} />
            {t('company.newSubsidiary')}
          </button>
        )}
        {canWrite && (
          <button
            type="button"
            className="button"
            onClick={() => onDialog({ kind: 'rename', company })}
            data-testid="company-rename"
          >
            {t('company.rename')}
          </button>
        )}
        {canWrite && company.parentId && (
          <button
            type="button"
            className={`button${company.status === 'active' ? ' button-danger-outline' : ''}`}
            onClick={() => onDialog({ kind: 'status', company })}
            data-testid="company-status"
          >
            {company.status === 'active' ? t('company.closeCompany') : t('company.reopen')}
          </button>
        )}
      </div>
      <div className="link-row">
        <Link to={href('/departments', { company: company.id })} className="button button-ghost">
          <Icon name="layers" size={16} />
          {t('company.viewDepartments')}
        </Link>
        <Link to={href('/users', { company: company.id })} className="button button-ghost">
          <Icon name="users" size={16} />
          {t('company.viewUsers')}
        </Link>
      </div>
    </div>
  );
}

function CompanyDialogs({
  dialog,
  onClose,
  onSelect,
}: {
  dialog: Dialog;
  onClose: () => void;
  onSelect: (id: string) => void;
}) {
  const { t } = useI18n();
  const directory = useDirectory();
  const notify = useToast();
  const setStatus = useMutation(
    (company: Company) => api.updateCompany(company.id, { status: company.status === 'active' ? 'closed' : 'active' }),
    (updated) => {
      directory.upsert(updated);
      notify(t('company.updated'));
      onClose();
    },
  );
  if (!dialog) return null;
  if (dialog.kind === 'create')
    return (
      <CompanyFormDialog
        parent={dialog.parent}
        onClose={onClose}
        onDone={(created) => {
          directory.upsert(created);
          notify(t('company.created', { name: created.name }));
          onClose();
          onSelect(created.id);
        }}
      />
    );
  if (dialog.kind === 'rename')
    return (
      <CompanyFormDialog
        company={dialog.company}
        onClose={onClose}
        onDone={(updated) => {
          directory.upsert(updated);
          notify(t('company.updated'));
          onClose();
        }}
      />
    );
  const closing = dialog.company.status === 'active';
  return (
    <ConfirmDialog
      title={closing ? t('company.closeCompany') : t('company.reopen')}
      message={
        closing
          ? t('company.closeConfirm', { name: dialog.company.name })
          : t('company.reopenConfirm', { name: dialog.company.name })
      }
      confirmLabel={closing ? t('company.closeCompany') : t('company.reopen')}
      danger={closing}
      busy={setStatus.busy}
      error={<ProblemMessage error={setStatus.error} />}
      onConfirm={() => void setStatus.run(dialog.company)}
      onCancel={onClose}
    />
  );
}
