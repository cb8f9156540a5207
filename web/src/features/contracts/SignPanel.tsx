import { useEffect, useMemo, useState, type FormEvent } from 'react';
import {
  api,
  STANDARD_CATEGORIES,
  type Contract,
  type ContractField,
  type ContractParticipant,
  type ContractSignBody,
  type PageBox,
} from '../../api';
import { useMutation, useQuery } from '../../hooks';
import { useI18n } from '../../i18n';
import { usePermissionSet, useSession } from '../../session';
import { Field } from '../../ui/Field';
import { Icon } from '../../ui/Icons';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { CategoryOptions } from '../approvals/ApprovalBadges';
import { useObjectUrl } from '../seals/SealImage';
import { SEAL_FIELD_TYPES, VALUE_FIELD_TYPES } from './draft';
import { PT_PER_MM, rectToScreen, shownSize, type Rect, type ScreenBox } from './geometry';
import { PdfPages, useOpenPdf } from './PdfPages';
import type { OpenPdf } from './pdf-render';

/** The seal the server draws on a keyword when the field names no size (StampOptions: 42 mm). */
const KEYWORD_SEAL_PT = 42 * PT_PER_MM;

interface Landing {
  field: ContractField;
  page: number;
  rect: Rect;
}

/** Where each of my placed fields lands: its rect, or the keyword as PDF.js finds it (centred, as the server does). */
function useLandings(fields: ContractField[], find: OpenPdf['find'] | null): Landing[] {
  const [found, setFound] = useState<Record<string, { page: number; rect: Rect } | null>>({});
  // Looked up again only when the keywords themselves change, not on every render's new array.
  const wanted = JSON.stringify(
    fields.filter((f) => f.keyword && f.type !== 'cross_page_seal').map((f) => [f.id, f.keyword, f.page]),
  );
  useEffect(() => {
    const lookups = JSON.parse(wanted) as Array<[string, string, number | null]>;
    if (!find || lookups.length === 0) return;
    let current = true;
    void (async () => {
      const next: Record<string, { page: number; rect: Rect } | null> = {};
      for (const [id, keyword, page] of lookups) next[id] = await find(keyword, page ?? undefined).catch(() => null);
      if (current) setFound(next);
    })();
    return () => {
      current = false;
    };
  }, [wanted, find]);
  const landings: Landing[] = [];
  for (const f of fields) {
    if (f.type === 'cross_page_seal') continue;
    if (f.rect && f.page) landings.push({ field: f, page: f.page, rect: f.rect });
    const hit = found[f.id];
    if (f.keyword && hit) {
      const [x, y, w, h] = hit.rect;
      const size = KEYWORD_SEAL_PT;
      landings.push({ field: f, page: hit.page, rect: [x + w / 2 - size / 2, y + h / 2 - size / 2, size, size] });
    }
  }
  return landings;
}

const pct = (n: number) => `${n * 100}%`;
const placed = (spot: ScreenBox) => ({
  left: pct(spot.left),
  top: pct(spot.top),
  width: pct(spot.width),
  height: pct(spot.height),
});

/**
 * Signing my part: for a company, the pages with its seal drawn where each seal field will land
 * (the seal's own image when I may see it, its outline otherwise) and the business category of
 * the grant it is used under, the contract's by default; for a person, their fields. Values for
 * my date, text and checkbox fields are asked here too.
 */
export function SignPanel({
  contract,
  participant,
  onSigned,
  onCancel,
  onStale,
}: {
  contract: Contract;
  participant: ContractParticipant;
  onSigned: (contract: Contract) => void;
  onCancel: () => void;
  onStale: () => void;
}) {
  const i18n = useI18n();
  const { t, tx } = i18n;
  const canReadSeals = usePermissionSet().has('seals.read');
  const isCompany = participant.kind === 'company';
  const mine = useMemo(
    () => contract.fields.filter((f) => f.participantId === participant.id),
    [contract.fields, participant.id],
  );
  const sealFields = mine.filter((f) => SEAL_FIELD_TYPES.includes(f.type));
  const valueFields = mine.filter((f) => VALUE_FIELD_TYPES.includes(f.type));
  const shownFields = isCompany ? sealFields : mine.filter((f) => f.type === 'signature');
  const crossPage = shownFields.some((f) => f.type === 'cross_page_seal');

  const file = useQuery(['SignPanel.document', contract.id, contract.currentSha256], (signal) =>
    api.contractDocument(contract.id, signal),
  );
  const pages = useQuery(['SignPanel.pages', contract.currentSha256], (signal) =>
    api.documentPages(contract.currentSha256, signal),
  );
  const { pdf, failed } = useOpenPdf(file.data);
  const landings = useLandings(shownFields, pdf ? pdf.find : null);
  // Without PDF.js (it failed to load) keywords cannot be looked up: the fields are listed instead.
  const searched = pdf !== null || failed;

  // The seal's image: read from the seal library (seals.read); a signer without it sees the outline and the name.
  const sealId = participant.sealId;
  const card = useQuery(['SignPanel.seal', sealId, canReadSeals], (signal) =>
    sealId && canReadSeals ? api.sealCard(sealId, signal).catch(() => null) : Promise.resolve(null),
  );
  const mySeals = useQuery(['SignPanel.mySeals', isCompany], (signal) =>
    isCompany ? api.mySeals({}, signal) : Promise.resolve(null),
  );
  const imageSha = card.data?.seal.imageSha256 ?? null;
  const image = useQuery(['SignPanel.image', imageSha], (signal) =>
    imageSha ? api.sealImage(imageSha, signal).catch(() => null) : Promise.resolve(null),
  );
  const imageUrl = useObjectUrl(image.data);
  const sealName = card.data?.seal.name ?? mySeals.data?.items.find((s) => s.id === sealId)?.name ?? '';

  const categories: readonly string[] = (STANDARD_CATEGORIES as readonly string[]).includes(contract.category)
    ? STANDARD_CATEGORIES
    : [contract.category, ...STANDARD_CATEGORIES];
  const [category, setCategory] = useState(contract.category);
  const today = new Date();
  const localToday = `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, '0')}-${String(today.getDate()).padStart(2, '0')}`;
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(valueFields.map((f) => [f.id, f.type === 'date' ? localToday : ''])),
  );
  const [attempted, setAttempted] = useState(false);
  // A second factor at the moment of signing: asked of whoever has an authenticator, or where the
  // contract requires one (`totp` is not in the generated body type until schema.d.ts is regenerated).
  const { me } = useSession();
  const [totp, setTotp] = useState('');
  const asksTotp =
    me.user.totpEnabled ||
    (contract as typeof contract & { requireSecondFactor?: boolean }).requireSecondFactor === true;

  const sign = useMutation(
    () =>
      api.signContract(contract.id, {
        ...(isCompany ? { category } : {}),
        fields: valueFields.filter((f) => values[f.id]?.trim()).map((f) => ({ id: f.id, value: values[f.id]!.trim() })),
        ...(asksTotp && totp.trim() ? { totp: totp.trim() } : {}),
      } as ContractSignBody & { totp?: string }),
    onSigned,
  );
  useEffect(() => {
    if (sign.error?.code === 'contract_changed') onStale();
  }, [sign.error, onStale]);

  const missing = valueFields.filter((f) => f.required && !values[f.id]?.trim()).map((f) => f.id);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    setAttempted(true);
    if (missing.length === 0) void sign.run();
  };

  const pagesShown = [...new Set(landings.map((l) => l.page))].sort((a, b) => a - b);
  if (crossPage && pages.data)
    for (let n = 1; n <= Math.min(pages.data.count, 3); n++) if (!pagesShown.includes(n)) pagesShown.push(n);
  pagesShown.sort((a, b) => a - b);
  const unplaced = shownFields.filter(
    (f) => f.type !== 'cross_page_seal' && !landings.some((l) => l.field.id === f.id),
  );

  const overlay = (page: number, box: PageBox) => (
    <>
      {landings
        .filter((l) => l.page === page)
        .map((l) => (
          <span
            key={l.field.id}
            className={`seal-landing${imageUrl && isCompany ? ' with-image' : ''}`}
            style={placed(rectToScreen(box, l.rect))}
            data-testid="seal-preview-spot"
            data-type={l.field.type}
          >
            {imageUrl && isCompany ? (
              <img src={imageUrl} alt={sealName} data-testid="seal-preview-image" />
            ) : (
              <span className="seal-landing-name">
                {isCompany ? sealName || tx(`fieldType.${l.field.type}`, '') : participant.name}
              </span>
            )}
          </span>
        ))}
      {crossPage && pages.data && (
        <span
          className="seal-landing-crosspage"
          style={{
            width: pct(KEYWORD_SEAL_PT / pages.data.count / shownSize(box).width),
            height: pct(KEYWORD_SEAL_PT / shownSize(box).height),
          }}
          data-testid="seal-preview-crosspage"
        >
          {imageUrl ? (
            <img src={imageUrl} alt="" style={{ width: pct(pages.data.count), left: pct(-(page - 1)) }} />
          ) : null}
        </span>
      )}
    </>
  );

  return (
    <form className="card sign-panel" onSubmit={onSubmit} noValidate data-testid="sign-panel">
      <h2>{isCompany ? t('contract.signSeal') : t('contract.signPerson')}</h2>
      {isCompany ? (
        <p className="stamp-seal-line" data-testid="sign-seal">
          <Icon name="seal" size={18} className="seal-line-icon" />
          <strong>{sealName || t('contract.sealOf', { company: participant.name })}</strong>
          <span className="muted small">{participant.name}</span>
        </p>
      ) : (
        <p className="muted">{t('contract.signPersonExplain')}</p>
      )}

      <div className="seal-preview" data-testid="seal-preview" data-ready={pdf && searched ? 'true' : 'false'}>
        <h3>{t('contract.previewTitle')}</h3>
        {shownFields.length === 0 ? (
          <p className="muted small" data-testid="seal-preview-none">
            {t('contract.noVisibleField')}
          </p>
        ) : (
          <>
            {crossPage && pages.data && (
              <p className="muted small">{t('contract.crossPageNote', { n: pages.data.count })}</p>
            )}
            {unplaced.length > 0 && searched && (
              <p className="muted small" data-testid="seal-preview-unplaced">
                {t('contract.keywordNotSeen', { keywords: unplaced.map((f) => f.keyword ?? '').join('、') })}
              </p>
            )}
            {pages.data && pagesShown.length > 0 && (
              <PdfPages
                pdf={pdf}
                failed={failed}
                pages={pages.data}
                only={pagesShown}
                overlay={overlay}
                testId="sign-pages"
              />
            )}
          </>
        )}
        <ProblemMessage error={file.error ?? pages.error} testId="sign-document-problem" />
      </div>

      {isCompany && (
        <Field
          label={t('category.label')}
          hint={t('contract.signCategoryHint')}
          error={sign.error?.fieldErrors().category}
        >
          {(p) => (
            <select
              {...p}
              className="input"
              value={category}
              onChange={(e) => setCategory(e.target.value)}
              data-testid="sign-category"
            >
              <CategoryOptions categories={categories} />
            </select>
          )}
        </Field>
      )}

      {valueFields.map((f) => (
        <ValueField
          key={f.id}
          field={f}
          value={values[f.id] ?? ''}
          onChange={(value) => setValues((v) => ({ ...v, [f.id]: value }))}
          error={attempted && missing.includes(f.id) ? 'is required' : undefined}
        />
      ))}

      {asksTotp && (
        <Field label={t('contract.signTotp')} hint={t('contract.signTotpHint')}>
          {(p) => (
            <input
              {...p}
              className="input input-code"
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="[0-9]*"
              maxLength={6}
              value={totp}
              onChange={(e) => setTotp(e.target.value)}
              data-testid="sign-totp"
            />
          )}
        </Field>
      )}

      <ProblemMessage error={sign.error} testId="sign-problem" />
      <div className="button-row">
        <button
          type="submit"
          className="button button-primary"
          disabled={sign.busy || !category}
          data-testid="sign-confirm"
        >
          <Icon name="pen" size={16} />
          {sign.busy ? t('contract.signing') : isCompany ? t('contract.confirmSeal') : t('contract.confirmSign')}
        </button>
        <button type="button" className="button" onClick={onCancel} data-testid="sign-cancel">
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}

function ValueField({
  field,
  value,
  onChange,
  error,
}: {
  field: ContractField;
  value: string;
  onChange: (value: string) => void;
  error: string | undefined;
}) {
  const { t, tx } = useI18n();
  const label = field.label ?? tx(`fieldType.${field.type}`, field.type);
  if (field.type === 'checkbox')
    return (
      <div className={`field${error ? ' field-invalid' : ''}`}>
        <label className="check">
          <input
            type="checkbox"
            checked={value === 'true'}
            onChange={(e) => onChange(e.target.checked ? 'true' : '')}
            data-testid="sign-value"
          />
          {label}
        </label>
        {error && <p className="field-error">{t('field.required')}</p>}
      </div>
    );
  return (
    <Field label={label} optional={!field.required} error={error}>
      {(p) => (
        <input
          {...p}
          className="input"
          type={field.type === 'date' ? 'date' : 'text'}
          maxLength={500}
          value={value}
          onChange={(e) => onChange(e.target.value)}
          data-testid="sign-value"
        />
      )}
    </Field>
  );
}
