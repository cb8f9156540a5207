import { useEffect, useState } from 'react';
import { api, ApiError, isOfdFile, isOfdReport, type AnyVerificationReport } from '../../api';
import { Icon } from '../../ui/Icons';
import { PageHeader } from '../../ui/PageHeader';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { signedFileName } from './StampResult';
import { OfdVerificationReportView } from './OfdVerificationReport';
import { VerificationReportView } from './VerificationReport';
import { useI18n } from '../../i18n';
import { useLocation } from '../../router';

/** The server refuses more (POST /verifications); saying so before sending spares a phone the upload. */
const MAX_BYTES = 20 * 1024 * 1024;

type State =
  | { status: 'idle' }
  | { status: 'checking'; name: string }
  | { status: 'done'; name: string; report: AnyVerificationReport }
  | { status: 'failed'; name: string; error: ApiError | null; tooLarge?: boolean };

const asApiError = (error: unknown) =>
  error instanceof ApiError ? error : new ApiError({ status: 0, code: 'network_error', detail: String(error) });

/**
 * 验证: anyone signed in uploads a PDF and reads the verifier's report — intact or not, each
 * signature's signer, impression, chain, validity, time (and whether a TSA proves it), coverage,
 * revocation and level — and whether the archive holds this exact file. `?signature=<id>` checks
 * a signed copy the platform stores (from an application's page).
 */
export function VerifyPage() {
  const i18n = useI18n();
  const { t } = i18n;
  const { query } = useLocation();
  const signatureId = query.get('signature');
  const [state, setState] = useState<State>({ status: 'idle' });

  const check = async (name: string, file: Blob) => {
    setState({ status: 'checking', name });
    try {
      const ofd = isOfdFile({ name, type: file.type });
      setState({ status: 'done', name, report: await api.verifyDocument(file, ofd) });
    } catch (error) {
      setState({ status: 'failed', name, error: asApiError(error) });
    }
  };

  useEffect(() => {
    if (!signatureId) return;
    let cancelled = false;
    setState({ status: 'checking', name: t('verify.fromPlatform') });
    (async () => {
      try {
        const record = await api.signature(signatureId);
        const file = await api.signedDocument(signatureId);
        if (!cancelled) await check(signedFileName(i18n, record.documentName), file);
      } catch (error) {
        if (!cancelled) setState({ status: 'failed', name: t('verify.fromPlatform'), error: asApiError(error) });
      }
    })();
    return () => {
      cancelled = true;
    };
    // Only the signature named in the address starts a check; the language does not.
  }, [signatureId]);

  const choose = (files: FileList | null) => {
    const file = files?.[0];
    if (!file) return;
    if (file.size > MAX_BYTES) {
      setState({ status: 'failed', name: file.name, error: null, tooLarge: true });
      return;
    }
    void check(file.name, file);
  };

  const checking = state.status === 'checking';
  return (
    <>
      <PageHeader title={t('verify.title')} subtitle={t('verify.subtitle')} />
      <section className="card verify-upload" data-testid="verify-upload">
        <label className={`button ${state.status === 'idle' ? 'button-primary' : ''} verify-choose`}>
          <Icon name="upload" size={18} />
          {checking ? t('verify.checking') : state.status === 'idle' ? t('verify.choose') : t('verify.chooseOther')}
          <input
            type="file"
            accept="application/pdf,.pdf,application/ofd,.ofd"
            hidden
            disabled={checking}
            data-testid="verify-file-input"
            onChange={(e) => {
              choose(e.target.files);
              e.target.value = '';
            }}
          />
        </label>
        <p className="muted small">{t('verify.hint')}</p>
        {state.status !== 'idle' && (
          <p className="verify-name cell-break" data-testid="verify-name">
            <Icon name="file" size={16} className="inline-icon" />
            {state.name}
          </p>
        )}
        {checking && (
          <div className="loading" aria-busy="true">
            <span className="spinner" aria-hidden="true" />
            {t('verify.checking')}
          </div>
        )}
        {state.status === 'failed' &&
          (state.tooLarge ? (
            <p className="alert alert-error" role="alert" data-testid="verify-problem">
              {t('verify.tooLarge')}
            </p>
          ) : (
            <ProblemMessage error={state.error} testId="verify-problem" />
          ))}
      </section>
      {state.status === 'done' &&
        (isOfdReport(state.report) ? (
          <OfdVerificationReportView report={state.report} fileName={state.name} />
        ) : (
          <VerificationReportView report={state.report} fileName={state.name} />
        ))}
    </>
  );
}
