import { useI18n } from '../i18n';
import { Link } from '../router';

export function NotFoundPage() {
  const { t } = useI18n();
  return (
    <div className="card notice-page">
      <h1 data-testid="page-title">{t('error.unknown_route')}</h1>
      <p className="muted">{t('error.notFound')}</p>
      <Link to="/" className="button">
        {t('nav.overview')}
      </Link>
    </div>
  );
}

export function NoAccessPage() {
  const { t } = useI18n();
  return (
    <div className="card notice-page">
      <h1 data-testid="page-title">{t('error.forbidden')}</h1>
      <p className="muted">{t('error.noAccess')}</p>
      <Link to="/" className="button">
        {t('nav.overview')}
      </Link>
    </div>
  );
}
