import { useState } from 'react';
import { api, type ElectronicSealFile, type Seal } from '../../api';
import { useMutation, useQuery } from '../../hooks';
import { useI18n } from '../../i18n';
import { Icon } from '../../ui/Icons';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { useToast } from '../../ui/Toast';
import { useObjectUrl } from './SealImage';

/**
 * 电子印章文件 (.esl): the GB/T 38540 seal an OFD signature carries. Issued (or, while one holds,
 * shown: POST answers with the one in force) by those who manage the seal, then downloaded.
 */
export function SealEsl({ seal }: { seal: Seal }) {
  const i18n = useI18n();
  const { t } = i18n;
  const notify = useToast();
  const [esl, setEsl] = useState<ElectronicSealFile | null>(null);
  const issue = useMutation(
    () => api.issueSealEsl(seal.id),
    (issued) => {
      setEsl(issued);
      notify(t('esl.issued'));
    },
  );
  const file = useQuery(
    ['SealEsl.file', seal.id, esl?.sha256],
    (signal) => (esl ? api.sealEsl(seal.id, signal) : Promise.resolve(null)),
    { enabled: Boolean(esl) },
  );
  const url = useObjectUrl(file.data);
  const fileName = `${seal.code || seal.id}.esl`;

  return (
    <section className="card" data-testid="seal-esl" data-state={esl ? 'ready' : 'none'}>
      <div className="card-head">
        <h2>{t('esl.title')}</h2>
      </div>
      <p className="muted small">{t('esl.hint')}</p>
      {esl && (
        <dl className="facts facts-wide certificate-facts">
          <div className="fact-full">
            <dt>{t('esl.name')}</dt>
            <dd className="cell-break" data-testid="esl-name">
              {esl.name}
            </dd>
          </div>
          <div className="fact-full">
            <dt>{t('esl.esId')}</dt>
            <dd className="mono hash" data-testid="esl-id">
              {esl.esId}
            </dd>
          </div>
          <div className="fact-full">
            <dt>{t('esl.validity')}</dt>
            <dd data-testid="esl-validity">
              {t('cert.validRange', {
                from: i18n.formatDate(esl.validStart, false),
                to: i18n.formatDate(esl.validEnd, false),
              })}
            </dd>
          </div>
          <div className="fact-full">
            <dt>{t('esl.maker')}</dt>
            <dd className="cell-break" data-testid="esl-maker">
              {esl.maker.subject}
            </dd>
          </div>
          <div className="fact-full">
            <dt>{t('esl.certificate')}</dt>
            <dd className="cell-break">
              {esl.certificate.subject}
              <span className="muted small mono"> · {esl.certificate.serialNumber}</span>
            </dd>
          </div>
        </dl>
      )}
      <div className="button-row esl-actions">
        {esl ? (
          url ? (
            <a className="button button-primary" href={url} download={fileName} data-testid="esl-download">
              <Icon name="download" size={16} />
              {t('esl.download')}
            </a>
          ) : (
            <button type="button" className="button button-primary" disabled>
              <Icon name="download" size={16} />
              {t('esl.download')}
            </button>
          )
        ) : (
          <button
            type="button"
            className="button button-primary"
            disabled={issue.busy}
            onClick={() => void issue.run()}
            data-testid="esl-issue"
          >
            <Icon name="key" size={16} />
            {issue.busy ? t('esl.issuing') : t('esl.issue')}
          </button>
        )}
      </div>
      <ProblemMessage error={issue.error ?? file.error} testId="esl-problem" />
    </section>
  );
}
