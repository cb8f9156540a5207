import {
  PADES_LEVELS,
  type ApiError,
  type DocumentPages,
  type PadesLevel,
  type PageBox,
  type SignDraft,
} from '../../api';
import { useI18n, type I18n, type MessageKey } from '../../i18n';
import { Field } from '../../ui/Field';
import { OfdPageImage, OfdPagePreview } from './OfdPage';

/**
 * How a seal is applied, chosen the way a person thinks of it: on a keyword such as 甲方（盖章）,
 * at a corner of a page (or an exact spot), or across the page edges (骑缝章); the PAdES level;
 * the reason. Distances are typed in millimetres and sent in PDF points.
 */

export type PlacementMode = 'keyword' | 'position' | 'crossPage';
export type Corner = 'last' | 'first' | 'exact';

export interface StampOptionsValue {
  mode: PlacementMode;
  keyword: string;
  offsetRight: string;
  offsetUp: string;
  keywordPage: string;
  corner: Corner;
  page: string;
  x: string;
  y: string;
  size: string;
  level: PadesLevel;
  reason: string;
}

export const initialStampOptions = (): StampOptionsValue => ({
  mode: 'keyword',
  keyword: '',
  offsetRight: '',
  offsetUp: '',
  keywordPage: '',
  corner: 'last',
  page: '',
  x: '',
  y: '',
  size: '',
  level: 'B-T',
  reason: '',
});

type FieldName =
  'keyword' | 'offsetRight' | 'offsetUp' | 'keywordPage' | 'page' | 'x' | 'y' | 'size' | 'crossPage' | 'reason';
export type StampProblems = Partial<Record<FieldName, string>>;

/** PDF points per millimetre (72 per inch). */
const PT_PER_MM = 72 / 25.4;
/** A company seal is 40–42 mm across; the server's default for keyword placement is 42 mm. */
const DEFAULT_SIZE_MM = 42;
/** Distance of a corner seal from the page edges. */
const MARGIN_MM = 20;

const round = (n: number) => Math.round(n * 100) / 100;

/** A decimal typed by a person ("12", "-3.5", "3,5"), or undefined when empty, or NaN. */
function decimal(text: string): number | undefined {
  const trimmed = text.trim().replace(',', '.');
  if (!trimmed) return undefined;
  return /^-?\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : Number.NaN;
}

function pageNumber(text: string, count: number | undefined): number | undefined {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  if (!/^\d+$/.test(trimmed)) return Number.NaN;
  const n = Number(trimmed);
  return n >= 1 && (count === undefined || n <= count) ? n : Number.NaN;
}

function boxOf(pages: DocumentPages, page: number): PageBox {
  return pages.pages[page - 1] ?? pages.last;
}

/** Where the corner (or exact) choice puts the seal: the page and its rectangle in points. */
export function placedRect(
  value: StampOptionsValue,
  pages: DocumentPages,
): { page: number; rect: [number, number, number, number]; box: PageBox['box'] } | null {
  const sizeMm = decimal(value.size) ?? DEFAULT_SIZE_MM;
  if (!Number.isFinite(sizeMm) || sizeMm <= 0) return null;
  const page =
    value.corner === 'last' ? pages.count : value.corner === 'first' ? 1 : pageNumber(value.page, pages.count);
  if (page === undefined || !Number.isFinite(page)) return null;
  const box = boxOf(pages, page).box;
  const [bx, by, bw] = box;
  const size = sizeMm * PT_PER_MM;
  const margin = MARGIN_MM * PT_PER_MM;
  // Bottom right, kept on the page however small it is.
  let x = Math.max(bx, bx + bw - margin - size);
  let y = by + margin;
  if (value.corner === 'exact') {
    const xMm = decimal(value.x);
    const yMm = decimal(value.y);
    if (xMm !== undefined) x = bx + xMm * PT_PER_MM;
    if (yMm !== undefined) y = by + yMm * PT_PER_MM;
    if (!Number.isFinite(x) || !Number.isFinite(y)) return null;
  }
  return { page, rect: [round(x), round(y), round(size), round(size)], box };
}

/** What the form would send, or the problems to fix first (in the reader's language). */
export function stampDraft(
  i18n: I18n,
  value: StampOptionsValue,
  pages: DocumentPages | undefined,
): { draft: Pick<SignDraft, 'level' | 'appearance' | 'crossPage' | 'reason'>; problems: StampProblems } {
  const { t } = i18n;
  const problems: StampProblems = {};
  const draft: Pick<SignDraft, 'level' | 'appearance' | 'crossPage' | 'reason'> = { level: value.level };
  const reason = value.reason.trim();
  if (reason) draft.reason = reason;
  if (value.mode === 'keyword') {
    const keyword = value.keyword.trim();
    if (!keyword) problems.keyword = t('field.notEmpty');
    const dx = decimal(value.offsetRight);
    const dy = decimal(value.offsetUp);
    if (Number.isNaN(dx)) problems.offsetRight = t('field.number');
    if (Number.isNaN(dy)) problems.offsetUp = t('field.number');
    const page = pageNumber(value.keywordPage, pages?.count);
    if (Number.isNaN(page))
      problems.keywordPage = pages ? t('field.pageRange', { n: pages.count }) : t('field.pageFrom1');
    draft.appearance = {
      type: 'keyword',
      keyword,
      ...(page ? { page } : {}),
      ...(dx || dy ? { offset: [round((dx ?? 0) * PT_PER_MM), round((dy ?? 0) * PT_PER_MM)] as [number, number] } : {}),
    };
  } else if (value.mode === 'position') {
    const size = decimal(value.size);
    if (size !== undefined && !(size > 0))
      problems.size = Number.isNaN(size) ? t('field.number') : t('field.greaterThan0');
    if (value.corner === 'exact') {
      const page = pageNumber(value.page, pages?.count);
      if (page === undefined) problems.page = t('field.required');
      else if (Number.isNaN(page))
        problems.page = pages ? t('field.pageRange', { n: pages.count }) : t('field.pageFrom1');
      if (Number.isNaN(decimal(value.x))) problems.x = t('field.number');
      if (Number.isNaN(decimal(value.y))) problems.y = t('field.number');
    }
    const placed = pages ? placedRect(value, pages) : null;
    if (placed) draft.appearance = { type: 'rect', page: placed.page, rect: placed.rect };
  } else {
    if (pages && pages.count < 2) problems.crossPage = t('stamp.crossPageNeedsPages');
    draft.crossPage = {};
  }
  return { draft, problems };
}

/** The server's field problems, keyed by this form's fields. */
export function serverStampProblems(error: ApiError | null): StampProblems {
  if (!error) return {};
  const out: StampProblems = {};
  for (const [field, message] of Object.entries(error.fieldErrors())) {
    if (field === 'appearance.keyword') out.keyword ??= message;
    else if (field.startsWith('appearance.offset')) out.offsetRight ??= message;
    else if (field === 'appearance.page') out.keywordPage ??= message;
    else if (field.startsWith('appearance.rect')) out.size ??= message;
    else if (field.startsWith('crossPage')) out.crossPage ??= message;
    else if (field === 'reason') out.reason ??= message;
  }
  return out;
}

/** The page outline with the seal where it will land, so "bottom right" can be seen before stamping. */
function PagePreview({ value, pages, ofd }: { value: StampOptionsValue; pages: DocumentPages; ofd?: string }) {
  const { t } = useI18n();
  const placed = placedRect(value, pages);
  if (!placed) return null;
  const [bx, by, bw, bh] = placed.box;
  const [x, y, w, h] = placed.rect;
  const pct = (n: number) => `${Math.max(0, Math.min(100, n * 100))}%`;
  return (
    <figure className="stamp-preview" data-testid="stamp-preview">
      <div
        className={`stamp-page${ofd ? ' stamp-page-ofd' : ''}`}
        style={{ aspectRatio: `${bw} / ${bh}` }}
        role="img"
        aria-label={t('stamp.pagePreview', { page: placed.page })}
      >
        {ofd ? (
          <OfdPageImage sha256={ofd} page={placed.page} />
        ) : (
          <span className="stamp-page-lines" aria-hidden="true" />
        )}
        <span
          className="stamp-spot"
          style={{ left: pct((x - bx) / bw), bottom: pct((y - by) / bh), width: pct(w / bw), height: pct(h / bh) }}
          aria-hidden="true"
        />
      </div>
      <figcaption className="muted small">{t('stamp.pagePreview', { page: placed.page })}</figcaption>
    </figure>
  );
}

/**
 * The placement, level and reason of a stamp. `pages` arrives once the document is known; an OFD
 * (`documentSha256` given, pages in format 'ofd') shows its pages as the server draws them, and
 * has no PAdES level.
 */
export function StampOptions({
  value,
  onChange,
  pages,
  problems,
  documentSha256,
}: {
  value: StampOptionsValue;
  onChange: (next: StampOptionsValue) => void;
  pages: DocumentPages | undefined;
  problems: StampProblems;
  documentSha256?: string;
}) {
  const i18n = useI18n();
  const { t } = i18n;
  const set = (patch: Partial<StampOptionsValue>) => onChange({ ...value, ...patch });
  const modes: Array<{ mode: PlacementMode; title: MessageKey; hint: MessageKey }> = [
    { mode: 'keyword', title: 'stamp.byKeyword', hint: 'stamp.byKeywordHint' },
    { mode: 'position', title: 'stamp.byPosition', hint: 'stamp.byPositionHint' },
    { mode: 'crossPage', title: 'stamp.crossPage', hint: 'stamp.crossPageHint' },
  ];
  const corners: Array<{ corner: Corner; label: MessageKey }> = [
    { corner: 'last', label: 'stamp.lastBottomRight' },
    { corner: 'first', label: 'stamp.firstBottomRight' },
    { corner: 'exact', label: 'stamp.exact' },
  ];
  const sizeMm = decimal(value.size);
  const ofd = pages?.format === 'ofd' && documentSha256 ? documentSha256 : undefined;
  const defaults = pages ? placedRect({ ...value, corner: 'last', x: '', y: '' }, pages) : null;
  const defaultXmm = defaults ? Math.round((defaults.rect[0] - defaults.box[0]) / PT_PER_MM) : null;
  const defaultYmm = defaults ? Math.round((defaults.rect[1] - defaults.box[1]) / PT_PER_MM) : null;

  return (
    <>
      <section className="card" data-testid="stamp-placement">
        <h2>{t('stamp.placement')}</h2>
        <div className="segmented segmented-3 stamp-modes" role="radiogroup" aria-label={t('stamp.placement')}>
          {modes.map(({ mode, title, hint }) => (
            <label key={mode} className={`segment${value.mode === mode ? ' active' : ''}`}>
              <input
                type="radio"
                name="stamp-mode"
                value={mode}
                checked={value.mode === mode}
                onChange={() => set({ mode })}
                data-testid={`stamp-mode-${mode}`}
              />
              <span className="segment-title">{t(title)}</span>
              <span className="segment-hint">{t(hint)}</span>
            </label>
          ))}
        </div>

        {value.mode === 'keyword' && (
          <div className="stamp-fields">
            <Field label={t('stamp.keyword')} hint={t('stamp.keywordHint')} error={problems.keyword}>
              {(p) => (
                <input
                  {...p}
                  className="input"
                  value={value.keyword}
                  maxLength={100}
                  placeholder={t('stamp.keywordPlaceholder')}
                  onChange={(e) => set({ keyword: e.target.value })}
                  data-testid="stamp-keyword"
                />
              )}
            </Field>
            <div className="form-row stamp-offset">
              <Field label={t('stamp.offsetRight')} optional error={problems.offsetRight}>
                {(p) => (
                  <input
                    {...p}
                    className="input"
                    inputMode="decimal"
                    value={value.offsetRight}
                    placeholder="0"
                    onChange={(e) => set({ offsetRight: e.target.value })}
                    data-testid="stamp-offset-right"
                  />
                )}
              </Field>
              <Field label={t('stamp.offsetUp')} optional error={problems.offsetUp}>
                {(p) => (
                  <input
                    {...p}
                    className="input"
                    inputMode="decimal"
                    value={value.offsetUp}
                    placeholder="0"
                    onChange={(e) => set({ offsetUp: e.target.value })}
                    data-testid="stamp-offset-up"
                  />
                )}
              </Field>
            </div>
            <p className="field-hint stamp-offset-hint">{t('stamp.offsetHint')}</p>
            <Field
              label={t('stamp.onlyPage')}
              optional
              hint={pages ? t('stamp.pages', { n: pages.count }) : undefined}
              error={problems.keywordPage}
              className="stamp-narrow"
            >
              {(p) => (
                <input
                  {...p}
                  className="input"
                  inputMode="numeric"
                  value={value.keywordPage}
                  placeholder={t('stamp.anyPage')}
                  onChange={(e) => set({ keywordPage: e.target.value })}
                  data-testid="stamp-keyword-page"
                />
              )}
            </Field>
          </div>
        )}

        {value.mode === 'position' && (
          <div className="stamp-position">
            <div className="stamp-fields">
              <fieldset className="checks stamp-corners">
                <legend>{t('stamp.position')}</legend>
                {corners.map(({ corner, label }) => (
                  <label key={corner} className="check">
                    <input
                      type="radio"
                      name="stamp-corner"
                      value={corner}
                      checked={value.corner === corner}
                      onChange={() =>
                        set({
                          corner,
                          ...(corner === 'exact' && !value.page && pages ? { page: String(pages.count) } : {}),
                        })
                      }
                      data-testid={`stamp-corner-${corner}`}
                    />
                    {t(label)}
                  </label>
                ))}
              </fieldset>
              {pages && <p className="muted small">{t('stamp.pages', { n: pages.count })}</p>}
              {value.corner === 'exact' && (
                <div className="form-row stamp-exact">
                  <Field label={t('stamp.page')} error={problems.page}>
                    {(p) => (
                      <input
                        {...p}
                        className="input"
                        inputMode="numeric"
                        value={value.page}
                        onChange={(e) => set({ page: e.target.value })}
                        data-testid="stamp-page"
                      />
                    )}
                  </Field>
                  <Field label={t('stamp.x')} optional error={problems.x}>
                    {(p) => (
                      <input
                        {...p}
                        className="input"
                        inputMode="decimal"
                        value={value.x}
                        placeholder={defaultXmm !== null ? String(defaultXmm) : undefined}
                        onChange={(e) => set({ x: e.target.value })}
                        data-testid="stamp-x"
                      />
                    )}
                  </Field>
                  <Field label={t('stamp.y')} optional error={problems.y}>
                    {(p) => (
                      <input
                        {...p}
                        className="input"
                        inputMode="decimal"
                        value={value.y}
                        placeholder={defaultYmm !== null ? String(defaultYmm) : undefined}
                        onChange={(e) => set({ y: e.target.value })}
                        data-testid="stamp-y"
                      />
                    )}
                  </Field>
                </div>
              )}
              <Field label={t('stamp.size')} optional error={problems.size} className="stamp-narrow">
                {(p) => (
                  <input
                    {...p}
                    className="input"
                    inputMode="decimal"
                    value={value.size}
                    placeholder={String(DEFAULT_SIZE_MM)}
                    onChange={(e) => set({ size: e.target.value })}
                    data-testid="stamp-size"
                  />
                )}
              </Field>
            </div>
            {pages && (sizeMm === undefined || sizeMm > 0) && <PagePreview value={value} pages={pages} ofd={ofd} />}
          </div>
        )}

        {value.mode === 'crossPage' && (
          <div className="stamp-fields" data-testid="stamp-cross-page">
            <p className="muted">{t('stamp.crossPageExplain')}</p>
            {pages && <p className="muted small">{t('stamp.pages', { n: pages.count })}</p>}
            {problems.crossPage && (
              <p className="field-error" data-testid="field-error">
                {i18n.fieldText(problems.crossPage)}
              </p>
            )}
          </div>
        )}
        {ofd && pages && value.mode !== 'position' && (
          <OfdPagePreview
            sha256={ofd}
            pages={pages}
            page={
              value.mode === 'keyword' && Number(value.keywordPage) > 0
                ? Math.min(Number(value.keywordPage), pages.count)
                : 1
            }
          />
        )}
      </section>

      <section className="card" data-testid="stamp-level-card">
        {ofd ? (
          <p className="muted small" data-testid="stamp-ofd-level">
            {t('ofd.levelNone')}
          </p>
        ) : (
          <Field label={t('stamp.level')} hint={t(`stamp.levelHint.${value.level}`)}>
            {(p) => (
              <select
                {...p}
                className="input"
                value={value.level}
                onChange={(e) => set({ level: e.target.value as PadesLevel })}
                data-testid="stamp-level"
              >
                {PADES_LEVELS.map((level) => (
                  <option key={level} value={level}>
                    {t(`stamp.level.${level}`)}
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
        <Field label={t('stamp.reason')} optional hint={t('stamp.reasonHint')} error={problems.reason}>
          {(p) => (
            <input
              {...p}
              className="input"
              value={value.reason}
              maxLength={200}
              placeholder={t('stamp.reasonPlaceholder')}
              onChange={(e) => set({ reason: e.target.value })}
              data-testid="stamp-reason"
            />
          )}
        </Field>
      </section>
    </>
  );
}
