import { useEffect, useState } from 'react';
import {
  api,
  SEAL_SHAPES,
  type ApiError,
  type SealImageSpec,
  type SealShape,
  type SealType,
  type StoredSealImage,
} from '../../api';
import { useMutation, useQuery } from '../../hooks';
import { useI18n } from '../../i18n';
import { Field } from '../../ui/Field';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { SealImageFrame, SealImage, useObjectUrl } from './SealImage';

/** Where the impression of a new seal comes from: drawn in the designer, or an uploaded file. */
export interface SealDesign {
  source: 'design' | 'upload';
  shape: SealShape;
  company: string;
  type: string;
  code: string;
  name: string;
  uploaded: (StoredSealImage & { fileName: string }) | null;
}

export function newDesign(shape: SealShape = 'round', company = '', type = ''): SealDesign {
  return { source: 'design', shape, company, type, code: '', name: '', uploaded: null };
}

/** What a seal of each type usually says across its middle, and its usual shape. The seal itself is Chinese whatever the console's language. */
export const SEAL_TYPE_TEXT: Record<SealType, string> = {
  official: '',
  contract: '合同专用章',
  finance: '财务专用章',
  invoice: '发票专用章',
  hr: '人事专用章',
  legal_representative: '',
  custom: '',
};
export const SEAL_TYPE_SHAPE: Record<SealType, SealShape> = {
  official: 'round',
  contract: 'round',
  finance: 'round',
  invoice: 'oval',
  hr: 'round',
  legal_representative: 'square',
  custom: 'round',
};

/** The impression to start from for a seal of this type and company (a custom type says its own name). */
export function designFor(type: SealType, company: string, customType = ''): SealDesign {
  return newDesign(SEAL_TYPE_SHAPE[type], company, type === 'custom' ? customType : SEAL_TYPE_TEXT[type]);
}

/** The stored impression a design stands for: the upload as it is, or the drawing made now at full size; none when nothing can be drawn. */
export async function storeDesign(design: SealDesign): Promise<string | undefined> {
  if (design.source === 'upload') return design.uploaded?.sha256;
  return isDrawable(design) ? (await api.generateSealImage(designSpec(design))).sha256 : undefined;
}

/** The texts the shape uses, trimmed: round and oval carry company, type and code; square a name. */
export function designSpec(design: SealDesign): SealImageSpec {
  const text = (value: string) => (value.trim() ? value.trim() : undefined);
  const spec: SealImageSpec = { shape: design.shape, format: 'png' };
  if (design.shape === 'square') {
    const name = text(design.name);
    if (name) spec.name = name;
  } else {
    for (const key of ['company', 'type', 'code'] as const) {
      const value = text(design[key]);
      if (value) spec[key] = value;
    }
  }
  return spec;
}

/** Whether the design says enough to be drawn: a round or oval seal needs its company, a square one a name. */
export function isDrawable(design: SealDesign): boolean {
  return design.shape === 'square' ? Boolean(design.name.trim()) : Boolean(design.company.trim());
}

const PREVIEW_DELAY_MS = 350;

/**
 * 印章图样设计: shape and texts, drawn by the server as they are typed (a moment after the
 * last key, and only the newest drawing is shown), with the server's objections under the
 * field they concern; or a PNG/SVG file uploaded instead.
 */
export function SealDesigner({
  value,
  onChange,
  problem,
}: {
  value: SealDesign;
  onChange: (design: SealDesign) => void;
  problem?: ApiError | null;
}) {
  const i18n = useI18n();
  const { t } = i18n;
  const set = (patch: Partial<SealDesign>) => onChange({ ...value, ...patch });

  return (
    <section className="card" data-testid="seal-designer">
      <div className="card-head">
        <div>
          <h2>{t('designer.title')}</h2>
          <p className="muted small">{t('designer.subtitle')}</p>
        </div>
      </div>
      <div className="segmented designer-source" role="radiogroup" aria-label={t('designer.title')}>
        {(['design', 'upload'] as const).map((source) => (
          <label key={source} className={`segment${value.source === source ? ' active' : ''}`}>
            <input
              type="radio"
              name="seal-image-source"
              value={source}
              checked={value.source === source}
              onChange={() => set({ source })}
              data-testid={`designer-source-${source}`}
            />
            <span className="segment-title">{t(`designer.source.${source}`)}</span>
            <span className="segment-hint">{t(`designer.source.${source}Hint`)}</span>
          </label>
        ))}
      </div>
      {value.source === 'design' ? <DesignForm value={value} set={set} /> : <UploadForm value={value} set={set} />}
      <ProblemMessage error={problem} testId="designer-problem" />
    </section>
  );
}

function DesignForm({ value, set }: { value: SealDesign; set: (patch: Partial<SealDesign>) => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const spec = designSpec(value);
  const drawable = isDrawable(value);
  const key = drawable ? JSON.stringify(spec) : '';
  const [settled, setSettled] = useState(key);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(key), PREVIEW_DELAY_MS);
    return () => clearTimeout(timer);
  }, [key]);
  const preview = useQuery(['SealDesigner.preview', settled], (signal) =>
    settled ? api.previewSealImage(JSON.parse(settled) as SealImageSpec, signal) : Promise.resolve(null),
  );
  const url = useObjectUrl(drawable ? preview.data : null);
  const current = settled === key && !preview.loading;
  // The server's objections name the field (company, type, code, name); they hold only for what is on screen.
  const fieldErrors = current && preview.error ? preview.error.fieldErrors() : {};
  const otherError = current && preview.error && Object.keys(fieldErrors).length === 0 ? preview.error : null;
  const status = !drawable
    ? t(value.shape === 'square' ? 'designer.needName' : 'designer.needCompany')
    : !current
      ? t('designer.drawing')
      : preview.error
        ? t('designer.fix')
        : t('designer.live');

  return (
    <div className="designer">
      <div className="designer-fields">
        <fieldset className="checks">
          <legend>{t('designer.shape')}</legend>
          <div className="segmented segmented-3" role="radiogroup">
            {SEAL_SHAPES.map((shape) => (
              <label key={shape} className={`segment${value.shape === shape ? ' active' : ''}`}>
                <input
                  type="radio"
                  name="seal-shape"
                  value={shape}
                  checked={value.shape === shape}
                  onChange={() => set({ shape })}
                  data-testid={`designer-shape-${shape}`}
                />
                <span className="segment-title">{t(`designer.shape.${shape}`)}</span>
                <span className="segment-hint">{t(`designer.shape.${shape}Hint`)}</span>
              </label>
            ))}
          </div>
        </fieldset>
        {value.shape === 'square' ? (
          <Field label={t('designer.name')} hint={t('designer.nameHint')} error={fieldErrors.name}>
            {(p) => (
              <input
                {...p}
                className="input"
                value={value.name}
                onChange={(e) => set({ name: e.target.value })}
                maxLength={40}
                data-testid="designer-name"
              />
            )}
          </Field>
        ) : (
          <>
            <Field label={t('designer.company')} hint={t('designer.companyHint')} error={fieldErrors.company}>
              {(p) => (
                <input
                  {...p}
                  className="input"
                  value={value.company}
                  onChange={(e) => set({ company: e.target.value })}
                  maxLength={120}
                  data-testid="designer-company"
                />
              )}
            </Field>
            <Field label={t('designer.typeText')} optional hint={t('designer.typeTextHint')} error={fieldErrors.type}>
              {(p) => (
                <input
                  {...p}
                  className="input"
                  value={value.type}
                  onChange={(e) => set({ type: e.target.value })}
                  maxLength={60}
                  data-testid="designer-type"
                />
              )}
            </Field>
            <Field
              label={t('designer.code')}
              optional
              hint={t(value.shape === 'oval' ? 'designer.codeHintOval' : 'designer.codeHint')}
              error={fieldErrors.code}
            >
              {(p) => (
                <input
                  {...p}
                  className="input"
                  value={value.code}
                  onChange={(e) => set({ code: e.target.value })}
                  maxLength={80}
                  data-testid="designer-code"
                />
              )}
            </Field>
          </>
        )}
      </div>
      <div className="designer-preview" aria-live="polite" aria-busy={!current}>
        <SealImageFrame
          src={url}
          alt={t('designer.previewAlt')}
          size="large"
          stale={!current || Boolean(preview.error)}
          placeholder={drawable ? undefined : t('designer.empty')}
          testId="designer-preview"
        />
        <p
          className={`small designer-status${preview.error && current ? ' text-error' : ' muted'}`}
          data-testid="designer-status"
        >
          {status}
        </p>
        <ProblemMessage error={otherError} testId="designer-preview-problem" />
      </div>
    </div>
  );
}

function UploadForm({ value, set }: { value: SealDesign; set: (patch: Partial<SealDesign>) => void }) {
  const { t } = useI18n();
  const upload = useMutation((file: File) =>
    api.uploadSealImage(file).then((image) => ({ ...image, fileName: file.name })),
  );
  const choose = async (files: FileList | null) => {
    const file = files?.[0];
    if (!file) return;
    const stored = await upload.run(file);
    if (stored) set({ uploaded: stored });
  };
  return (
    <div className="designer">
      <div className="designer-fields">
        <p className="muted small">{t('designer.uploadHint')}</p>
        <label className="button file-button">
          {upload.busy ? t('apply.uploading') : value.uploaded ? t('designer.uploadOther') : t('designer.uploadChoose')}
          <input
            type="file"
            accept="image/png,image/svg+xml,.png,.svg"
            hidden
            disabled={upload.busy}
            data-testid="designer-upload-input"
            onChange={(e) => void choose(e.target.files).then(() => (e.target.value = ''))}
          />
        </label>
        {value.uploaded && (
          <p className="small" data-testid="designer-uploaded">
            {value.uploaded.fileName} · {value.uploaded.width}×{value.uploaded.height} ·{' '}
            {Math.max(1, Math.round(value.uploaded.size / 1024))} KB
          </p>
        )}
        <ProblemMessage error={upload.error} testId="designer-upload-problem" />
      </div>
      <div className="designer-preview">
        {value.uploaded ? (
          <SealImage
            sha256={value.uploaded.sha256}
            alt={value.uploaded.fileName}
            size="large"
            testId="designer-upload-preview"
          />
        ) : (
          <SealImageFrame src={null} alt="" size="large" placeholder={t('designer.noUpload')} />
        )}
      </div>
    </div>
  );
}
