import type { ApiError } from '../api';
import { roleName, useI18n } from '../i18n';
import { Icon } from './Icons';

/**
 * A problem the server answered with, for a person, in their language: worded from its code and
 * parameters (in English, the server's own `detail`). A separation-of-duties refusal names the
 * two roles that clash and the accounts that hold them.
 */
export function ProblemMessage({ error, testId = 'problem' }: { error: ApiError | null | undefined; testId?: string }) {
  const i18n = useI18n();
  const { t, locale } = i18n;
  if (!error) return null;
  const { code, detail, roles, conflicts } = error.problem;

  if (code === 'sod_conflict') {
    const [held, wanted] = Array.isArray(roles) ? roles : [];
    const a = held ? roleName(i18n, held) : '';
    const b = wanted ? roleName(i18n, wanted) : '';
    // A change of the matrix names every account that would hold a pair it keeps apart.
    const accounts = Array.isArray(conflicts)
      ? (conflicts as Array<{ userId: string; userName: string; roles: string[] }>)
      : [];
    return (
      <div className="alert alert-error" role="alert" data-testid={testId} data-code={code}>
        <Icon name="alert" size={20} className="alert-icon" />
        <div>
          <strong className="alert-title">{t('sod.conflictTitle')}</strong>
          {held && wanted && (
            <p data-testid="sod-roles">
              {t('sod.conflict', { a, b })} {locale === 'zh-CN' && t('sod.held', { a, b })}
            </p>
          )}
          {accounts.length > 0 && (
            <>
              <p>{t('sod.conflictAccounts')}</p>
              <ul data-testid="sod-conflicts">
                {accounts.map((c) => (
                  <li key={`${c.userId}|${c.roles.join('|')}`}>
                    {c.userName}: {c.roles.map((r) => roleName(i18n, r)).join(' / ')}
                  </li>
                ))}
              </ul>
            </>
          )}
          {locale !== 'zh-CN' && <p>{detail}</p>}
        </div>
      </div>
    );
  }

  return (
    <div className="alert alert-error" role="alert" data-testid={testId} data-code={code}>
      <Icon name="alert" size={20} className="alert-icon" />
      <div>
        <p>{i18n.problemText(error.problem)}</p>
      </div>
    </div>
  );
}
