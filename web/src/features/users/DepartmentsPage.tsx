import { useState } from 'react';
import { api, type Department } from '../../api';
import { CompanySelect } from '../companies/CompanySelect';
import { DepartmentDialog } from './DepartmentDialog';
import { Icon } from '../../ui/Icons';
import { LoadState, PageHeader } from '../../ui/PageHeader';
import { useToast } from '../../ui/Toast';
import { useForgetDepartments } from './departments';
import { useDirectory } from './directory';
import { useQuery } from '../../hooks';
import { useI18n } from '../../i18n';
import { href, Link, navigate, useLocation } from '../../router';
import { useCan, useSession } from '../../session';

export function DepartmentsPage() {
  const { t } = useI18n();
  const { me } = useSession();
  const directory = useDirectory();
  const can = useCan();
  const notify = useToast();
  const { query } = useLocation();
  const [dialog, setDialog] = useState<{ department?: Department } | null>(null);

  const fallback = directory.byId.has(me.company.id) ? me.company.id : (directory.ordered[0]?.id ?? '');
  const companyId = query.get('company') ?? fallback;
  const list = useQuery(['DepartmentsPage.list', companyId], (signal) =>
    companyId ? api.departments({ companyId }, signal) : Promise.resolve({ items: [] }),
  );
  const items = list.data?.items ?? [];
  const canWrite = Boolean(companyId) && can('org.write', companyId);

  const forgetDepartments = useForgetDepartments();
  const done = (department: Department, created: boolean) => {
    forgetDepartments(department.companyId);
    notify(created ? t('department.created', { name: department.name }) : t('department.updated'));
    setDialog(null);
    list.reload();
  };

  return (
    <>
      <PageHeader
        title={t('department.title')}
        subtitle={t('department.subtitle')}
        actions={
          canWrite && (
            <button
              type="button"
              className="button button-primary"
              onClick={() => setDialog({})}
              data-testid="department-new"
            >
              <Icon name="plus" size={16} />
              {t('department.new')}
            </button>
          )
        }
      />
      <div className="toolbar">
        <label className="toolbar-field">
          <span>{t('user.company')}</span>
          <CompanySelect
            value={companyId}
            onChange={(id) => navigate(href('/departments', { company: id }), { replace: true })}
            data-testid="department-company"
          />
        </label>
      </div>
      <section className="card card-flush">
        <LoadState
          loading={list.loading}
          error={list.error}
          empty={items.length === 0}
          onRetry={list.reload}
          emptyText={companyId ? t('common.empty') : t('department.chooseCompany')}
        />
        {!list.loading && items.length > 0 && (
          <table className="table responsive" data-testid="department-table">
            <thead>
              <tr>
                <th>{t('department.name')}</th>
                <th>{t('department.head')}</th>
                <th className="num">{t('department.members')}</th>
                <th className="actions-col">
                  <span className="sr-only">{t('common.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <tr key={d.id} data-testid="department-row">
                  <td data-label={t('department.name')} className="cell-title">
                    {d.name}
                  </td>
                  <td data-label={t('department.head')}>
                    {d.headName ?? <span className="muted">{t('department.noHead')}</span>}
                  </td>
                  <td data-label={t('department.members')} className="num">
                    <Link to={href('/users', { company: d.companyId, department: d.id })}>{d.memberCount}</Link>
                  </td>
                  <td className="actions-col">
                    {canWrite && (
                      <button
                        type="button"
                        className="button button-small"
                        onClick={() => setDialog({ department: d })}
                        data-testid="department-edit"
                      >
                        {t('common.edit')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {dialog && companyId && (
        <DepartmentDialog
          companyId={companyId}
          department={dialog.department}
          onClose={() => setDialog(null)}
          onDone={(d) => done(d, !dialog.department)}
        />
      )}
    </>
  );
}
