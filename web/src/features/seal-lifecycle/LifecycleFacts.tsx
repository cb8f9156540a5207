import { useEffect, useState } from 'react';
import { api, type Application } from '../../api';
import { useDirectory } from '../users/directory';
import { listOf, sealKindName, sealTypeName, useI18n } from '../../i18n';
import { Link } from '../../router';
import { usePermissionSet } from '../../session';
import { SealImage } from '../seals/SealImage';

const str = (value: unknown): string | null => (typeof value === 'string' && value ? value : null);
const ids = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

/** Names of people named only by id: those already on the application first, then the directory (when it may be read). */
function usePeopleNames(application: Application, wanted: string[]): Map<string, string> {
  const canRead = usePermissionSet().has('org.read');
  const [names, setNames] = useState<Map<string, string>>(() => new Map());
  const key = wanted.join(',');
  useEffect(() => {
    const known = new Map<string, string>();
    for (const p of [
      ...application.plan.levels.flatMap((l) => l.approvers),
      ...application.cc,
      { id: application.applicantId, name: application.applicantName },
    ])
      known.set(p.id, p.name);
    setNames(new Map(known));
    const missing = wanted.filter((id) => !known.has(id));
    if (!canRead || missing.length === 0) return;
    let live = true;
    Promise.all(
      missing.map((id) =>
        api.user(id).then(
          (u) => [id, u.name] as const,
          () => null,
        ),
      ),
    ).then(
      (found) => {
        if (!live) return;
        setNames((previous) => {
          const next = new Map(previous);
          for (const entry of found) if (entry) next.set(entry[0], entry[1]);
          return next;
        });
      },
      () => undefined,
    );
    return () => {
      live = false;
    };
    // The ids decide what to look up; the application's people only seed the names.
  }, [key, canRead, application.id]);
  return names;
}

/**
 * What a lifecycle application asks for: the seal to be made (its particulars and
 * impression) or the step for an existing seal and what it would change.
 */
export function LifecycleFacts({ application }: { application: Application }) {
  const i18n = useI18n();
  const { t } = i18n;
  const directory = useDirectory();
  const canReadSeals = usePermissionSet().has('seals.read');
  const p = application.payload;
  const custodianIds = ids(p.custodianIds);
  const names = usePeopleNames(application, custodianIds);
  const custodians =
    custodianIds.length > 0
      ? listOf(
          i18n,
          custodianIds.map((id) => names.get(id) ?? '…'),
        )
      : null;
  const action = application.lifecycleAction ?? 'produce';
  const image = str(p.imageSha256);
  const seal = application.seals[0];

  return (
    <section className="card lifecycle-facts" data-testid="lifecycle-facts" data-action={action}>
      <h2>{t(`lifecycle.step.${action}`)}</h2>
      <div className="seal-card">
        {action === 'produce' && (
          <div className="seal-card-image">
            {image ? (
              <SealImage
                sha256={image}
                alt={t('sealImage.alt', { name: str(p.name) ?? '' })}
                size="medium"
                testId="application-seal-image"
              />
            ) : (
              <span className="muted small">{t('sealImage.none')}</span>
            )}
          </div>
        )}
        {action !== 'produce' && image && (
          <div className="seal-card-image seal-card-image-captioned">
            <SealImage
              sha256={image}
              alt={t('sealImage.alt', { name: seal?.name ?? '' })}
              size="medium"
              testId="application-seal-image"
            />
            <span className="muted small">{t('lifecycle.newImage')}</span>
          </div>
        )}
        <dl className="facts facts-wide">
          {action === 'produce' ? (
            <>
              <div>
                <dt>{t('production.name')}</dt>
                <dd data-testid="lifecycle-seal-name">
                  {seal && canReadSeals ? <Link to={`/seals/${seal.id}`}>{str(p.name)}</Link> : str(p.name)}
                </dd>
              </div>
              <div>
                <dt>{t('seal.code')}</dt>
                <dd className="mono">{str(p.code)}</dd>
              </div>
              <div>
                <dt>{t('seal.type')}</dt>
                <dd>{str(p.customType) ?? sealTypeName(i18n, str(p.type) ?? '')}</dd>
              </div>
              <div>
                <dt>{t('seal.kind')}</dt>
                <dd>{sealKindName(i18n, str(p.kind) ?? '')}</dd>
              </div>
              <div>
                <dt>{t('seal.company')}</dt>
                <dd>{directory.nameOf(str(p.companyId))}</dd>
              </div>
              {str(p.description) && (
                <div className="fact-full">
                  <dt>{t('seal.description')}</dt>
                  <dd className="prewrap">{str(p.description)}</dd>
                </div>
              )}
            </>
          ) : (
            <>
              <div className="fact-full">
                <dt>{t('seal.name')}</dt>
                <dd>
                  {seal ? (
                    canReadSeals ? (
                      <Link to={`/seals/${seal.id}`} data-testid="lifecycle-seal-link">
                        {seal.name}
                      </Link>
                    ) : (
                      seal.name
                    )
                  ) : (
                    '—'
                  )}
                  {seal && <span className="muted small"> {seal.code}</span>}
                </dd>
              </div>
              {str(p.name) && (
                <div>
                  <dt>{t('lifecycle.newName')}</dt>
                  <dd>{str(p.name)}</dd>
                </div>
              )}
              {str(p.companyId) && (
                <div>
                  <dt>{t('lifecycle.toCompany')}</dt>
                  <dd>{directory.nameOf(str(p.companyId))}</dd>
                </div>
              )}
              {typeof p.description === 'string' && (
                <div className="fact-full">
                  <dt>{t('lifecycle.newDescription')}</dt>
                  <dd className="prewrap">{p.description || '—'}</dd>
                </div>
              )}
            </>
          )}
          {custodians && (
            <div className="fact-full">
              <dt>{action === 'produce' ? t('seal.custodians') : t('lifecycle.newCustodians')}</dt>
              <dd data-testid="lifecycle-custodians">{custodians}</dd>
            </div>
          )}
        </dl>
      </div>
    </section>
  );
}
