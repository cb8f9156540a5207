import { api, type Flow } from '../../api';
import { CompanySelect } from '../companies/CompanySelect';
import { Icon } from '../../ui/Icons';
import { LoadState, PageHeader } from '../../ui/PageHeader';
import { useDirectory } from '../users/directory';
import { useQuery } from '../../hooks';
import { categoryName, useI18n } from '../../i18n';
import { href, Link, navigate, useLocation } from '../../router';

/** The flows of the companies in my charge: which category or seal each serves, its levels, its version. */
export function FlowsPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const directory = useDirectory();
  const { query } = useLocation();
  const companyId = query.get('company') ?? '';
  const includeArchived = query.get('archived') === '1';
  const flows = useQuery(['FlowsPage.flows', companyId, includeArchived], (signal) =>
    api.flows({ ...(companyId ? { companyId } : {}), includeArchived: includeArchived ? 'true' : 'false' }, signal),
  );
  const items = flows.data?.items ?? [];
  const bound = items.some((f) => f.sealId);
  const seals = useQuery(['FlowsPage.seals', bound], (signal) =>
    bound ? api.seals({ limit: 500 }, signal) : Promise.resolve(null),
  );
  const sealName = (id: string) => seals.data?.items.find((s) => s.id === id)?.name ?? '…';
  const setFilter = (patch: Record<string, string | undefined>) =>
    navigate(href('/flows', { company: companyId, archived: includeArchived ? '1' : undefined, ...patch }), {
      replace: true,
    });

  const levelsOf = (flow: Flow) => flow.definition.levels.map((level) => level.name).join(' → ');

  return (
    <>
      <PageHeader
        title={t('flow.title')}
        subtitle={t('flow.subtitle')}
        actions={
          <Link to="/flows/new" className="button button-primary" data-testid="flow-new">
            <Icon name="plus" size={16} />
            {t('flow.new')}
          </Link>
        }
      />
      <div className="toolbar">
        <label className="toolbar-field">
          <span>{t('flow.company')}</span>
          <CompanySelect
            value={companyId}
            allowEmpty
            emptyLabel={t('company.all')}
            onChange={(id) => setFilter({ company: id || undefined })}
            data-testid="flow-filter-company"
          />
        </label>
        <label className="toolbar-check">
          <input
            type="checkbox"
            checked={includeArchived}
            onChange={(e) => setFilter({ archived: e.target.checked ? '1' : undefined })}
          />
          <span>{t('flow.includeArchived')}</span>
        </label>
      </div>
      <section className="card card-flush">
        <LoadState
          loading={flows.loading && !flows.data}
          error={flows.error}
          empty={items.length === 0}
          onRetry={flows.reload}
          emptyText={t('flow.empty')}
        />
        {items.length > 0 && (
          <table className="table responsive" data-testid="flow-table">
            <thead>
              <tr>
                <th>{t('flow.name')}</th>
                <th>{t('flow.company')}</th>
                <th>{t('flow.category')}</th>
                <th>{t('flow.levels')}</th>
                <th>{t('flow.version')}</th>
                <th>{t('flow.status')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((f) => (
                <tr key={f.id} data-testid="flow-row" className={f.status === 'archived' ? 'row-muted' : undefined}>
                  <td data-label={t('flow.name')} className="cell-title">
                    <Link to={`/flows/${f.id}`} data-testid="flow-link">
                      {f.name}
                    </Link>
                  </td>
                  <td data-label={t('flow.company')}>{directory.nameOf(f.companyId)}</td>
                  <td data-label={t('flow.category')}>
                    {f.purpose === 'lifecycle' ? (
                      <span className="tag" data-testid="flow-lifecycle">
                        {t('flow.purpose.lifecycle')}
                      </span>
                    ) : f.sealId ? (
                      <span>
                        <Icon name="seal" size={14} className="inline-icon" /> {sealName(f.sealId)}
                      </span>
                    ) : (
                      categoryName(i18n, f.category)
                    )}
                  </td>
                  <td data-label={t('flow.levels')}>{levelsOf(f)}</td>
                  <td data-label={t('flow.version')}>{t('flow.versionN', { n: f.version })}</td>
                  <td data-label={t('flow.status')}>
                    <span className={`badge ${f.status === 'active' ? 'badge-ok' : 'badge-muted'}`}>
                      {f.status === 'active' ? t('flow.active') : t('flow.archived')}
                    </span>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
