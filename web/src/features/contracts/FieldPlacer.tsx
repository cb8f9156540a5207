import { useRef, useState, type KeyboardEvent, type PointerEvent as ReactPointerEvent } from 'react';
import type { DocumentPages, FieldType, PageBox } from '../../api';
import { useI18n } from '../../i18n';
import { Icon } from '../../ui/Icons';
import { fieldTypesFor, newKey, type FieldDraft, type ParticipantDraft } from './draft';
import { dropRect, keepOnPage, rectToScreen, screenToRect, shownSize, type ScreenBox } from './geometry';
import type { OpenPdf } from './pdf-render';
import { boxOf, PdfPages } from './PdfPages';

/**
 * Placing fields on the contract's pages: pick whose fields, then drag one from the palette onto
 * a page (or tap it: it lands in the middle of the page in view), move it, resize it from its
 * corner, or name a keyword instead. Pointer events throughout, so a finger on a phone does what
 * a mouse does; arrow keys move the chosen field and Delete removes it.
 */

/** How far a press must travel before it is a drag rather than a tap, in CSS pixels. */
const DRAG_START_PX = 6;
/** The smallest field, in points. */
const MIN_POINTS = 10;
const SEALS_KEEP_SHAPE: readonly FieldType[] = ['company_seal', 'legal_rep_seal'];

interface Ghost {
  type: FieldType;
  x: number;
  y: number;
}

/** The page sheet under a point of the screen, and where on it (fractions), if any. */
function pageAt(
  container: HTMLElement | null,
  x: number,
  y: number,
): { page: number; at: { x: number; y: number } } | null {
  for (const element of container?.querySelectorAll<HTMLElement>('[data-pdf-page]') ?? []) {
    const r = element.getBoundingClientRect();
    if (x >= r.left && x <= r.right && y >= r.top && y <= r.bottom)
      return { page: Number(element.dataset.pdfPage), at: { x: (x - r.left) / r.width, y: (y - r.top) / r.height } };
  }
  return null;
}

/** The page showing most in the window: a tapped field lands on it. */
function pageInView(container: HTMLElement | null): number {
  let best = 1;
  let most = 0;
  for (const element of container?.querySelectorAll<HTMLElement>('[data-pdf-page]') ?? []) {
    const r = element.getBoundingClientRect();
    const visible = Math.max(0, Math.min(r.bottom, window.innerHeight) - Math.max(r.top, 0));
    if (visible > most) {
      most = visible;
      best = Number(element.dataset.pdfPage);
    }
  }
  return best;
}

export function FieldPlacer({
  pages,
  pdf,
  failed,
  participants,
  fields,
  onChange,
  nameOf,
  problem,
}: {
  pages: DocumentPages;
  pdf: OpenPdf | null;
  failed: boolean;
  participants: ParticipantDraft[];
  fields: FieldDraft[];
  onChange: (fields: FieldDraft[]) => void;
  nameOf: (p: ParticipantDraft) => string;
  problem?: string | undefined;
}) {
  const i18n = useI18n();
  const { t, tx } = i18n;
  const signers = participants.filter((p) => p.role === 'signer');
  const [chosenKey, setChosenKey] = useState('');
  const active = signers.find((p) => p.key === chosenKey) ?? signers[0];
  const [selected, setSelected] = useState<string | null>(null);
  const [ghost, setGhost] = useState<Ghost | null>(null);
  const [keyword, setKeyword] = useState('');
  const [keywordType, setKeywordType] = useState<FieldType | ''>('');
  const container = useRef<HTMLDivElement>(null);
  const press = useRef<{ type: FieldType; x: number; y: number; moved: boolean } | null>(null);

  const colorOf = (participantKey: string) =>
    Math.max(
      0,
      signers.findIndex((p) => p.key === participantKey),
    ) % 6;
  const typeName = (type: FieldType) => tx(`fieldType.${type}`, type);
  const ownerName = (participantKey: string) => {
    const owner = participants.find((p) => p.key === participantKey);
    return owner ? nameOf(owner) : '';
  };

  if (!active) {
    return (
      <p className="muted" data-testid="placer-no-signer">
        {t('contract.placeNeedsSigner')}
      </p>
    );
  }
  const types = fieldTypesFor(active.kind);
  const chosenKeywordType = keywordType && types.includes(keywordType) ? keywordType : types[0]!;

  const update = (key: string, patch: Partial<FieldDraft>) =>
    onChange(fields.map((f) => (f.key === key ? { ...f, ...patch } : f)));
  const remove = (key: string) => {
    onChange(fields.filter((f) => f.key !== key));
    if (selected === key) setSelected(null);
  };

  const place = (type: FieldType, page: number, at: { x: number; y: number }) => {
    const key = newKey('f');
    if (type === 'cross_page_seal') {
      // One cross-page seal per company: it spans every page's edge, wherever it was dropped.
      onChange([
        ...fields.filter((f) => !(f.type === type && f.participantKey === active.key)),
        { key, participantKey: active.key, type },
      ]);
    } else {
      onChange([
        ...fields,
        { key, participantKey: active.key, type, page, rect: dropRect(boxOf(pages, page), type, at) },
      ]);
    }
    setSelected(key);
  };

  /* ---- dragging from the palette ---- */
  const onChipDown = (type: FieldType) => (event: ReactPointerEvent<HTMLButtonElement>) => {
    if (event.button !== 0) return;
    event.preventDefault();
    event.currentTarget.setPointerCapture(event.pointerId);
    press.current = { type, x: event.clientX, y: event.clientY, moved: false };
  };
  const onChipMove = (event: ReactPointerEvent<HTMLButtonElement>) => {
    const p = press.current;
    if (!p) return;
    if (!p.moved && Math.hypot(event.clientX - p.x, event.clientY - p.y) < DRAG_START_PX) return;
    p.moved = true;
    setGhost({ type: p.type, x: event.clientX, y: event.clientY });
  };
  const onChipUp = (event: ReactPointerEvent<HTMLButtonElement>) => {
    const p = press.current;
    press.current = null;
    setGhost(null);
    if (!p) return;
    if (!p.moved) {
      place(p.type, pageInView(container.current), { x: 0.5, y: 0.5 });
      return;
    }
    const target = pageAt(container.current, event.clientX, event.clientY);
    if (target) place(p.type, target.page, target.at);
  };
  const onChipCancel = () => {
    press.current = null;
    setGhost(null);
  };

  const addByKeyword = () => {
    const text = keyword.trim();
    if (!text) return;
    const key = newKey('f');
    onChange([...fields, { key, participantKey: active.key, type: chosenKeywordType, keyword: text }]);
    setKeyword('');
  };

  const overlay = (page: number, box: PageBox) => (
    <>
      {fields
        .filter((f) => f.page === page && f.rect)
        .map((f) => (
          <PlacedField
            key={f.key}
            field={f}
            box={box}
            color={colorOf(f.participantKey)}
            label={typeName(f.type)}
            owner={ownerName(f.participantKey)}
            selected={selected === f.key}
            onSelect={() => setSelected(f.key)}
            onMove={(rect) => update(f.key, { rect })}
            onRemove={() => remove(f.key)}
            removeLabel={t('contract.removeField')}
          />
        ))}
      {fields
        .filter((f) => f.type === 'cross_page_seal')
        .map((f) => (
          <span
            key={f.key}
            className={`cf-crosspage cf-color-${colorOf(f.participantKey)}`}
            data-testid="placed-crosspage"
            title={`${typeName(f.type)} · ${ownerName(f.participantKey)}`}
          />
        ))}
    </>
  );

  return (
    <div className="placer" ref={container} data-testid="field-placer">
      <div className="placer-tools" data-testid="placer-tools">
        <label className="placer-for">
          <span className="field-label">{t('contract.fieldsFor')}</span>
          <select
            className="input"
            value={active.key}
            onChange={(e) => setChosenKey(e.target.value)}
            data-testid="placer-participant"
          >
            {signers.map((p, i) => (
              <option key={p.key} value={p.key}>
                {`${i + 1}. ${nameOf(p) || t(`participantKind.${p.kind}`)}`}
              </option>
            ))}
          </select>
        </label>
        <div className="palette" role="group" aria-label={t('contract.palette')}>
          {types.map((type) => (
            <button
              key={type}
              type="button"
              className={`palette-chip cf-color-${colorOf(active.key)}`}
              onPointerDown={onChipDown(type)}
              onPointerMove={onChipMove}
              onPointerUp={onChipUp}
              onPointerCancel={onChipCancel}
              // A pointer's tap is handled on release; a key's press (detail 0) places it here.
              onClick={(e) => e.detail === 0 && place(type, pageInView(container.current), { x: 0.5, y: 0.5 })}
              data-testid={`palette-${type}`}
            >
              <Icon name={type.endsWith('seal') ? 'seal' : type === 'signature' ? 'pen' : 'plus'} size={15} />
              {typeName(type)}
            </button>
          ))}
        </div>
      </div>
      <p className="muted small placer-hint">{t('contract.paletteHint')}</p>
      <div className="placer-keyword">
        <select
          className="input"
          value={chosenKeywordType}
          onChange={(e) => setKeywordType(e.target.value as FieldType)}
          aria-label={t('contract.keywordType')}
          data-testid="keyword-type"
        >
          {types
            .filter((type) => type !== 'cross_page_seal')
            .map((type) => (
              <option key={type} value={type}>
                {typeName(type)}
              </option>
            ))}
        </select>
        <input
          className="input"
          value={keyword}
          maxLength={100}
          placeholder={t('contract.keywordPlaceholder')}
          aria-label={t('contract.byKeyword')}
          onChange={(e) => setKeyword(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              e.preventDefault();
              addByKeyword();
            }
          }}
          data-testid="keyword-input"
        />
        <button type="button" className="button" onClick={addByKeyword} data-testid="keyword-add">
          {t('contract.byKeyword')}
        </button>
      </div>

      <PdfPages pdf={pdf} failed={failed} pages={pages} overlay={overlay} testId="placer-pages" />

      <div className="placer-list">
        <h3>{t('contract.placedFields', { n: fields.length })}</h3>
        {fields.length === 0 ? (
          <p className="muted small">{t('contract.noFields')}</p>
        ) : (
          <ul className="item-list" data-testid="field-list">
            {fields.map((f) => (
              <li
                key={f.key}
                data-testid="field-row"
                data-type={f.type}
                className={selected === f.key ? 'selected' : undefined}
              >
                <span className="role-line">
                  <span className={`cf-dot cf-color-${colorOf(f.participantKey)}`} aria-hidden="true" />
                  <strong>{typeName(f.type)}</strong>
                  <span className="muted small">{ownerName(f.participantKey)}</span>
                  <span className="muted small">
                    {f.keyword
                      ? t('contract.atKeyword', { keyword: f.keyword })
                      : f.page
                        ? t('contract.pageOf', { n: f.page })
                        : t('contract.acrossPages')}
                  </span>
                </span>
                <button
                  type="button"
                  className="icon-button"
                  onClick={() => remove(f.key)}
                  aria-label={t('contract.removeField')}
                  data-testid="field-remove"
                >
                  <Icon name="trash" size={16} />
                </button>
              </li>
            ))}
          </ul>
        )}
        {problem && (
          <p className="field-error" data-testid="field-error">
            {i18n.fieldText(problem)}
          </p>
        )}
      </div>

      {ghost && (
        <span
          className={`palette-ghost cf-color-${colorOf(active.key)}`}
          style={{ left: ghost.x, top: ghost.y }}
          aria-hidden="true"
          data-testid="palette-ghost"
        >
          {typeName(ghost.type)}
        </span>
      )}
    </div>
  );
}

/** A field on a page: dragged to move, its corner dragged to resize; arrows nudge it, Delete removes it. */
function PlacedField({
  field,
  box,
  color,
  label,
  owner,
  selected,
  onSelect,
  onMove,
  onRemove,
  removeLabel,
}: {
  field: FieldDraft;
  box: PageBox;
  color: number;
  label: string;
  owner: string;
  selected: boolean;
  onSelect: () => void;
  onMove: (rect: NonNullable<FieldDraft['rect']>) => void;
  onRemove: () => void;
  removeLabel: string;
}) {
  const spot = rectToScreen(box, field.rect!);
  const gesture = useRef<{
    mode: 'move' | 'resize';
    x: number;
    y: number;
    from: ScreenBox;
    width: number;
    height: number;
  } | null>(null);
  const shown = shownSize(box);
  const minimum = { width: MIN_POINTS / shown.width, height: MIN_POINTS / shown.height };

  const begin = (mode: 'move' | 'resize') => (event: ReactPointerEvent<HTMLElement>) => {
    if (event.button !== 0) return;
    event.preventDefault();
    event.stopPropagation();
    const sheet = event.currentTarget.closest<HTMLElement>('[data-pdf-page]');
    if (!sheet) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    const r = sheet.getBoundingClientRect();
    gesture.current = { mode, x: event.clientX, y: event.clientY, from: spot, width: r.width, height: r.height };
    onSelect();
  };
  const follow = (event: ReactPointerEvent<HTMLElement>) => {
    const g = gesture.current;
    if (!g) return;
    const dx = (event.clientX - g.x) / g.width;
    const dy = (event.clientY - g.y) / g.height;
    let next: ScreenBox;
    if (g.mode === 'move') {
      next = keepOnPage({ ...g.from, left: g.from.left + dx, top: g.from.top + dy });
    } else {
      let width = Math.max(minimum.width, Math.min(g.from.width + dx, 1 - g.from.left));
      let height = Math.max(minimum.height, Math.min(g.from.height + dy, 1 - g.from.top));
      if (SEALS_KEEP_SHAPE.includes(field.type)) {
        // A seal keeps its shape: the larger pull decides, in points, and it stays on the page.
        const ratio = (g.from.height * g.height) / (g.from.width * g.width);
        const side = Math.max(width * g.width, (height * g.height) / ratio);
        const fit = Math.min(side, (1 - g.from.left) * g.width, ((1 - g.from.top) * g.height) / ratio);
        width = fit / g.width;
        height = (fit * ratio) / g.height;
      }
      next = { ...g.from, width, height };
    }
    onMove(screenToRect(box, next));
  };
  const end = () => {
    gesture.current = null;
  };

  const onKey = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key === 'Delete' || event.key === 'Backspace') {
      event.preventDefault();
      onRemove();
      return;
    }
    const step = event.shiftKey ? 0.05 : 0.01;
    const moves: Record<string, [number, number]> = {
      ArrowLeft: [-step, 0],
      ArrowRight: [step, 0],
      ArrowUp: [0, -step],
      ArrowDown: [0, step],
    };
    const move = moves[event.key];
    if (!move) return;
    event.preventDefault();
    onMove(screenToRect(box, keepOnPage({ ...spot, left: spot.left + move[0], top: spot.top + move[1] })));
  };

  return (
    <div
      className={`cf-field cf-color-${color}${selected ? ' selected' : ''}`}
      style={{
        left: `${spot.left * 100}%`,
        top: `${spot.top * 100}%`,
        width: `${spot.width * 100}%`,
        height: `${spot.height * 100}%`,
      }}
      role="button"
      tabIndex={0}
      aria-label={`${label} · ${owner}`}
      aria-pressed={selected}
      onPointerDown={begin('move')}
      onPointerMove={follow}
      onPointerUp={end}
      onPointerCancel={end}
      onFocus={onSelect}
      onKeyDown={onKey}
      data-testid="placed-field"
      data-type={field.type}
      data-page={field.page}
      data-rect={field.rect!.join(',')}
    >
      <span className="cf-field-label">
        {label}
        <small>{owner}</small>
      </span>
      <button
        type="button"
        className="cf-field-remove"
        onPointerDown={(e) => e.stopPropagation()}
        onClick={onRemove}
        aria-label={removeLabel}
        tabIndex={-1}
        data-testid="placed-field-remove"
      >
        <Icon name="close" size={12} />
      </button>
      <span
        className="cf-field-resize"
        onPointerDown={begin('resize')}
        onPointerMove={(e) => {
          e.stopPropagation();
          follow(e);
        }}
        onPointerUp={end}
        onPointerCancel={end}
        aria-hidden="true"
        data-testid="placed-field-resize"
      />
    </div>
  );
}
