import type { ReactNode } from 'react';
import { api, isOfdFile, isOfdReport, type SignatureRecord } from '../../api';
import { useQuery } from '../../hooks';
import { useI18n, type I18n } from '../../i18n';
import { Icon } from '../../ui/Icons';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { useObjectUrl } from '../seals/SealImage';
import { OfdVerificationReportView } from './OfdVerificationReport';
import { VerificationReportView } from './VerificationReport';

/** 销售合同.pdf → 销售合同（已盖章）.pdf / 销售合同-signed.pdf (an .ofd stays an .ofd) */
export function signedFileName(i18n: I18n, name: string | null): string {
  const ext = /\.ofd$/i.test(name ?? '') ? '.ofd' : '.pdf';
  const base = (name ?? `document${ext}`).replace(/\.(pdf|ofd)$/i, '');
  return `${base}${i18n.t('stamp.signedSuffix')}${ext}`;
}

/**
 * After a stamp: what was done, the signed PDF to download, and the verifier's report on that
 * very file (fetched back from the platform, so what is shown is what is stored).
 */
export function StampResult({
  signature,
  details,
  actions,
}: {
  signature: SignatureRecord;
  details?: ReactNode;
  actions?: ReactNode;
}) {
  const i18n = useI18n();
  const { t } = i18n;
  const file = useQuery(['StampResult.file', signature.id], (signal) => api.signedDocument(signature.id, signal));
  const name = signedFileName(i18n, signature.documentName);
  const ofd = file.data ? isOfdFile({ name, type: file.data.type }) : /\.ofd$/i.test(name);
  const report = useQuery(['StampResult.report', file.data], () =>
    file.data ? api.verifyDocument(file.data, ofd) : Promise.resolve(null),
  );
  const url = useObjectUrl(file.data);
  return (
    <div className="stamp-result" data-testid="stamp-result" data-signature={signature.id}>
      <section className="card stamp-done">
        <div className="stamp-done-head">
          <Icon name="ok" size={28} className="stamp-done-icon" />
          <div>
            <h2>{t('stamp.doneTitle')}</h2>
            <p className="muted" data-testid="stamp-done">
              {t('stamp.doneBody', {
                seal: signature.sealName ?? signature.userName,
                document: signature.documentName ?? '—',
                name: signature.userName,
                time: i18n.formatDate(signature.signedAt),
              })}
            </p>
            {details}
          </div>
        </div>
        <div className="button-row stamp-done-actions">
          {url ? (
            <a className="button button-primary" href={url} download={name} data-testid="stamp-download">
              <Icon name="download" size={17} />
              {t(ofd ? 'ofd.downloadSigned' : 'stamp.download')}
            </a>
          ) : (
            <button type="button" className="button button-primary" disabled>
              <Icon name="download" size={17} />
              {t(ofd ? 'ofd.downloadSigned' : 'stamp.download')}
            </button>
          )}
          {actions}
        </div>
        <ProblemMessage error={file.error} />
      </section>
      <h2 className="section-title">{t('stamp.verification')}</h2>
      {report.error ? (
        <ProblemMessage error={report.error} testId="stamp-verify-problem" />
      ) : report.data && isOfdReport(report.data) ? (
        <OfdVerificationReportView report={report.data} fileName={name} testId="stamp-verification" />
      ) : report.data ? (
        <VerificationReportView report={report.data} fileName={name} testId="stamp-verification" />
      ) : (
        <div className="loading">
          <span className="spinner" aria-hidden="true" />
          {t('stamp.verifying')}
        </div>
      )}
    </div>
  );
}
