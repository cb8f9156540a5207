import { useEffect, useState, type FormEvent } from 'react';
import {
  api,
  ROLES,
  SEAL_KINDS,
  SEAL_TYPES,
  STANDARD_CATEGORIES,
  type ApprovalMode,
  type ApproverSpec,
  type Flow,
  type FlowDefinition,
  type FlowPurpose,
  type LevelSpec,
  type Person,
  type Role,
  type SealKind,
  type SealType,
} from '../../api';
import { CompanySelect } from '../companies/CompanySelect';
import { Field } from '../../ui/Field';
import { Icon } from '../../ui/Icons';
import { ConfirmDialog, Modal } from '../../ui/Modal';
import { LoadState } from '../../ui/PageHeader';
import { PersonPicker } from '../../ui/PersonPicker';
import { ProblemMessage } from '../../ui/ProblemMessage';
import { useToast } from '../../ui/Toast';
import { useDirectory } from '../users/directory';
import { useMutation, useQuery } from '../../hooks';
import { categoryName, roleName, sealKindName, sealTypeName, useI18n } from '../../i18n';
import { Link, navigate } from '../../router';
import { useCan, usePermissionSet, useSession } from '../../session';

type ApproverType = ApproverSpec['type'];
const APPROVER_TYPES: readonly ApproverType[] = ['department_head', 'custodian', 'user', 'role'];
const CUSTOM = '__custom';

interface ApproverDraft {
  key: number;
  type: ApproverType;
  user: Person | null;
  role: Role;
  companyId: string;
}

interface LevelDraft {
  key: number;
  name: string;
  mode: ApprovalMode;
  approvers: ApproverDraft[];
  conditionOn: boolean;
  minUses: string;
  sealTypes: SealType[];
  sealKinds: SealKind[];
  remindAfter: string;
  escalateAfter: string;
}

let lastKey = 0;
const nextKey = () => ++lastKey;

function approverDraft(spec: ApproverSpec | null, defaultCompanyId: string): ApproverDraft {
  const draft: ApproverDraft = {
    key: nextKey(),
    type: spec?.type ?? 'user',
    user: null,
    role: 'seal_admin',
    companyId: defaultCompanyId,
  };
  if (spec?.type === 'user') draft.user = { id: spec.userId, name: '' };
  if (spec?.type === 'role') {
    draft.role = spec.role;
    draft.companyId = spec.companyId;
  }
  return draft;
}

function levelDraft(level: LevelSpec | null, name: string, defaultCompanyId: string): LevelDraft {
  const c = level?.condition;
  return {
    key: nextKey(),
    name: level?.name ?? name,
    mode: level?.mode ?? 'any',
    approvers: level
      ? level.approvers.map((a) => approverDraft(a, defaultCompanyId))
      : [approverDraft({ type: 'department_head' }, defaultCompanyId)],
    conditionOn: Boolean(c),
    minUses: c?.minUses !== undefined ? String(c.minUses) : '',
    sealTypes: c?.sealTypes ?? [],
    sealKinds: c?.sealKinds ?? [],
    remindAfter: level?.remindAfterHours !== undefined ? String(level.remindAfterHours) : '',
    escalateAfter: level?.escalateAfterHours !== undefined ? String(level.escalateAfterHours) : '',
  };
}

function toSpec(d: ApproverDraft): ApproverSpec {
  switch (d.type) {
    case 'user':
      return { type: 'user', userId: d.user?.id ?? '' };
    case 'role':
      return { type: 'role', role: d.role, companyId: d.companyId };
    default:
      return { type: d.type };
  }
}

function toLevel(d: LevelDraft): LevelSpec {
  const level: LevelSpec = { name: d.name.trim(), mode: d.mode, approvers: d.approvers.map(toSpec) };
  if (d.conditionOn) {
    level.condition = {
      ...(d.minUses.trim() ? { minUses: Number(d.minUses) } : {}),
      ...(d.sealTypes.length > 0 ? { sealTypes: d.sealTypes } : {}),
      ...(d.sealKinds.length > 0 ? { sealKinds: d.sealKinds } : {}),
    };
  }
  if (d.remindAfter.trim()) level.remindAfterHours = Number(d.remindAfter);
  if (d.escalateAfter.trim()) level.escalateAfterHours = Number(d.escalateAfter);
  return level;
}

const isHours = (text: string) =>
  !text.trim() || (Number.isFinite(Number(text)) && Number(text) >= 0.01 && Number(text) <= 24 * 60);

/** Names of the people a flow names by id (the definition stores only ids). */
function useUserNames(ids: string[], enabled: boolean): Map<string, string> {
  const [names, setNames] = useState<Map<string, string>>(new Map());
  const key = [...new Set(ids)].sort().join(',');
  useEffect(() => {
    if (!key || !enabled) return;
    let live = true;
    Promise.all(
      key.split(',').map((id) =>
        api.user(id).then(
          (u) => [id, u.name] as const,
          () => null,
        ),
      ),
    ).then(
      (pairs) => {
        if (live) setNames(new Map(pairs.filter((p): p is readonly [string, string] => p !== null)));
      },
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [key, enabled]);
  return names;
}

/** Create a flow (/flows/new) or change one (/flows/:id): every save of a flow makes a new version. */
export function FlowEditorPage({ flowId }: { flowId?: string }) {
  const existing = useQuery(['FlowEditorPage.existing', flowId], (signal) =>
    flowId ? api.flow(flowId, signal) : Promise.resolve(null),
  );
  if (flowId && !existing.data) {
    return (
      <>
        <BackLink />
        <LoadState loading={existing.loading} error={existing.error} empty={false} onRetry={existing.reload} />
      </>
    );
  }
  return (
    <FlowForm
      key={existing.data?.id ?? 'new'}
      flow={existing.data ?? null}
      onSaved={(flow) => existing.setData(flow)}
    />
  );
}

function BackLink() {
  const { t } = useI18n();
  return (
    <Link to="/flows" className="back-link">
      <Icon name="chevron" size={14} className="flip" />
      {t('flow.back')}
    </Link>
  );
}

function FlowForm({ flow, onSaved }: { flow: Flow | null; onSaved: (flow: Flow) => void }) {
  const i18n = useI18n();
  const { t } = i18n;
  const { me } = useSession();
  const can = useCan();
  const directory = useDirectory();
  const notify = useToast();
  const canManage = (companyId: string) => can('flows.manage', companyId);
  const initialCompany =
    flow?.companyId ??
    (canManage(me.company.id) ? me.company.id : (directory.ordered.find((c) => canManage(c.id))?.id ?? ''));

  const [name, setName] = useState(flow?.name ?? '');
  const [companyId, setCompanyId] = useState(initialCompany);
  const [purpose, setPurpose] = useState<FlowPurpose>(flow?.purpose ?? 'seal_use');
  const standard = (STANDARD_CATEGORIES as readonly string[]).includes(flow?.category ?? '');
  const [categoryChoice, setCategoryChoice] = useState(flow?.category ? (standard ? flow.category : CUSTOM) : '');
  const [customName, setCustomName] = useState(
    flow?.category?.startsWith('custom:') ? flow.category.slice('custom:'.length) : '',
  );
  const [sealId, setSealId] = useState(flow?.sealId ?? '');
  const [levels, setLevels] = useState<LevelDraft[]>(() =>
    flow
      ? flow.definition.levels.map((l) => levelDraft(l, l.name, flow.companyId))
      : [levelDraft(null, t('flow.newLevelName', { n: 1 }), initialCompany)],
  );
  const [cc, setCc] = useState<ApproverDraft[]>(() =>
    flow ? flow.definition.cc.map((a) => approverDraft(a, flow.companyId)) : [],
  );
  const [allowSame, setAllowSame] = useState(flow?.definition.allowSameApproverAcrossLevels ?? false);
  const [attempted, setAttempted] = useState(false);
  const [archiving, setArchiving] = useState(false);

  const userIds = [...levels.flatMap((l) => l.approvers), ...cc].flatMap((a) =>
    a.type === 'user' && a.user && !a.user.name ? [a.user.id] : [],
  );
  const canReadPeople = usePermissionSet().has('org.read');
  const names = useUserNames(userIds, canReadPeople);
  const seals = useQuery(['FlowEditorPage.seals', flow, companyId], (signal) =>
    !flow && companyId ? api.seals({ under: companyId, limit: 500 }, signal) : Promise.resolve(null),
  );
  const boundSeal = useQuery(['FlowEditorPage.boundSeal', flow?.sealId], (signal) =>
    flow?.sealId ? api.sealCard(flow.sealId, signal).then((c) => c.seal) : Promise.resolve(null),
  );

  const category = categoryChoice === CUSTOM ? `custom:${customName.trim()}` : categoryChoice;
  const definition = (): FlowDefinition => ({
    levels: levels.map(toLevel),
    cc: cc.map(toSpec),
    allowSameApproverAcrossLevels: allowSame,
  });

  // What is wrong, keyed like the server's field paths without `body.` and `definition.`.
  const problems: Record<string, string> = {};
  if (!name.trim()) problems.name = t('field.notEmpty');
  if (!flow && !companyId) problems.companyId = t('field.required');
  if (!flow && purpose === 'seal_use' && categoryChoice === CUSTOM && !/^[^\s:][^:]{0,39}$/u.test(customName.trim()))
    problems.category = t('field.category');
  levels.forEach((level, i) => {
    if (!level.name.trim()) problems[`levels.${i}.name`] = t('field.notEmpty');
    if (level.approvers.length === 0) problems[`levels.${i}.approvers`] = t('flow.addApprover');
    level.approvers.forEach((a, j) => {
      if (a.type === 'user' && !a.user) problems[`levels.${i}.approvers.${j}`] = t('field.choosePerson');
      if (a.type === 'role' && !a.companyId) problems[`levels.${i}.approvers.${j}`] = t('field.required');
    });
    if (level.conditionOn) {
      const min = level.minUses.trim();
      if (min && !/^\d+$/.test(min)) problems[`levels.${i}.condition.minUses`] = t('field.wholeNumber');
      if (!min && level.sealTypes.length === 0 && level.sealKinds.length === 0)
        problems[`levels.${i}.condition`] = t('flow.conditionHint');
    }
    if (!isHours(level.remindAfter)) problems[`levels.${i}.remindAfterHours`] = t('field.atLeast1');
    if (!isHours(level.escalateAfter)) problems[`levels.${i}.escalateAfterHours`] = t('field.atLeast1');
  });
  cc.forEach((a, j) => {
    if (a.type === 'user' && !a.user) problems[`cc.${j}`] = t('field.choosePerson');
    if (a.type === 'role' && !a.companyId) problems[`cc.${j}`] = t('field.required');
  });

  const save = useMutation(
    () =>
      flow
        ? api.updateFlow(flow.id, { name: name.trim(), definition: definition() })
        : api.createFlow({
            companyId,
            purpose,
            ...(purpose === 'seal_use' && category ? { category } : {}),
            ...(purpose === 'seal_use' && sealId ? { sealId } : {}),
            name: name.trim(),
            definition: definition(),
          }),
    (saved) => {
      setAttempted(false);
      if (flow) {
        notify(t('flow.saved', { n: saved.version }));
        onSaved(saved);
      } else {
        notify(t('flow.created', { name: saved.name }));
        navigate(`/flows/${saved.id}`, { replace: true });
      }
    },
  );
  const archive = useMutation(
    () => api.archiveFlow(flow!.id),
    () => {
      notify(t('flow.archivedToast'));
      navigate('/flows');
    },
  );

  const server: Record<string, string> = {};
  for (const [field, message] of Object.entries(save.error?.fieldErrors() ?? {}))
    server[field.replace(/^definition\./, '')] = i18n.fieldText(message);
  const errorOf = (path: string): string | undefined => (attempted ? problems[path] : undefined) ?? server[path];

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setAttempted(true);
    if (Object.keys(problems).length > 0) {
      requestAnimationFrame(() =>
        document
          .querySelector('.field-invalid, .approver-error')
          ?.scrollIntoView({ block: 'center', behavior: 'smooth' }),
      );
      return;
    }
    void save.run();
  };

  const updateLevel = (index: number, patch: Partial<LevelDraft>) =>
    setLevels((list) => list.map((l, i) => (i === index ? { ...l, ...patch } : l)));
  const moveLevel = (index: number, by: number) =>
    setLevels((list) => {
      const next = [...list];
      const [item] = next.splice(index, 1);
      next.splice(index + by, 0, item!);
      return next;
    });
  const archived = flow?.status === 'archived';

  return (
    <>
      <BackLink />
      <div className="page-header">
        <div className="page-heading">
          <h1 data-testid="page-title">{flow ? flow.name : t('flow.newTitle')}</h1>
          {flow && (
            <div className="detail-sub">
              <span className="badge badge-info" data-testid="flow-version">
                {t('flow.versionN', { n: flow.version })}
              </span>
              <span className={`badge ${archived ? 'badge-muted' : 'badge-ok'}`}>
                {archived ? t('flow.archived') : t('flow.active')}
              </span>
            </div>
          )}
        </div>
        {flow && !archived && canManage(flow.companyId) && (
          <div className="page-actions">
            <button
              type="button"
              className="button button-danger-outline"
              onClick={() => setArchiving(true)}
              data-testid="flow-archive"
            >
              {t('flow.archive')}
            </button>
          </div>
        )}
      </div>

      <form className="flow-editor" onSubmit={submit} noValidate data-testid="flow-form">
        <section className="card">
          <div className="form-grid">
            <Field label={t('flow.name')} error={errorOf('name')} className="span-2">
              {(p) => (
                <input
                  {...p}
                  className="input"
                  value={name}
                  onChange={(e) => setName(e.target.value)}
                  maxLength={100}
                  disabled={archived}
                  data-testid="flow-name"
                />
              )}
            </Field>
            {flow ? (
              <dl className="facts span-2 flow-fixed">
                <div>
                  <dt>{t('flow.company')}</dt>
                  <dd>{directory.nameOf(flow.companyId)}</dd>
                </div>
                <div>
                  <dt>{t('flow.purpose')}</dt>
                  <dd data-testid="flow-purpose-fixed">{t(`flow.purpose.${flow.purpose}`)}</dd>
                </div>
                {flow.purpose === 'seal_use' && (
                  <div>
                    <dt>{t('flow.category')}</dt>
                    <dd>{categoryName(i18n, flow.category)}</dd>
                  </div>
                )}
                <div>
                  <dt>{t('flow.seal')}</dt>
                  <dd>{flow.sealId ? (boundSeal.data?.name ?? '…') : t('flow.noSeal')}</dd>
                </div>
              </dl>
            ) : (
              <>
                <Field label={t('flow.company')} error={errorOf('companyId')}>
                  {(p) => (
                    <CompanySelect
                      {...p}
                      value={companyId}
                      onChange={(id) => {
                        setCompanyId(id);
                        setSealId('');
                      }}
                      filter={canManage}
                      data-testid="flow-company"
                    />
                  )}
                </Field>
                <Field
                  label={t('flow.purpose')}
                  hint={purpose === 'lifecycle' ? t('flow.purposeLifecycleHint') : undefined}
                >
                  {(p) => (
                    <select
                      {...p}
                      className="input"
                      value={purpose}
                      onChange={(e) => setPurpose(e.target.value === 'lifecycle' ? 'lifecycle' : 'seal_use')}
                      data-testid="flow-purpose"
                    >
                      <option value="seal_use">{t('flow.purpose.seal_use')}</option>
                      <option value="lifecycle">{t('flow.purpose.lifecycle')}</option>
                    </select>
                  )}
                </Field>
                {purpose === 'seal_use' && (
                  <>
                    <Field
                      label={t('flow.category')}
                      error={categoryChoice !== CUSTOM ? errorOf('category') : undefined}
                    >
                      {(p) => (
                        <select
                          {...p}
                          className="input"
                          value={categoryChoice}
                          onChange={(e) => setCategoryChoice(e.target.value)}
                          data-testid="flow-category"
                        >
                          <option value="">{t('category.all')}</option>
                          {STANDARD_CATEGORIES.map((c) => (
                            <option key={c} value={c}>
                              {categoryName(i18n, c)}
                            </option>
                          ))}
                          <option value={CUSTOM}>{t('category.custom')}</option>
                        </select>
                      )}
                    </Field>
                    {categoryChoice === CUSTOM && (
                      <Field label={t('category.customName')} error={errorOf('category')}>
                        {(p) => (
                          <input
                            {...p}
                            className="input"
                            value={customName}
                            onChange={(e) => setCustomName(e.target.value)}
                            maxLength={40}
                            data-testid="flow-custom-category"
                          />
                        )}
                      </Field>
                    )}
                    <Field label={t('flow.seal')} optional hint={t('flow.sealHint')} error={errorOf('sealId')}>
                      {(p) => (
                        <select
                          {...p}
                          className="input"
                          value={sealId}
                          onChange={(e) => setSealId(e.target.value)}
                          disabled={!companyId}
                          data-testid="flow-seal"
                        >
                          <option value="">{t('flow.noSeal')}</option>
                          {seals.data?.items.map((s) => (
                            <option key={s.id} value={s.id}>
                              {s.name} ({s.code})
                            </option>
                          ))}
                        </select>
                      )}
                    </Field>
                  </>
                )}
              </>
            )}
          </div>
          {flow && <p className="muted small">{t('flow.fixed')}</p>}
        </section>

        <h2 className="section-title">{t('flow.levels')}</h2>
        <ol className="level-list">
          {levels.map((level, index) => (
            <li key={level.key} className="card level-card" data-testid="flow-level">
              <div className="level-head">
                <span className="plan-step" aria-hidden="true">
                  {index + 1}
                </span>
                <span className="level-title">{t('flow.level', { n: index + 1 })}</span>
                <span className="level-tools">
                  <button
                    type="button"
                    className="icon-button"
                    onClick={() => moveLevel(index, -1)}
                    disabled={index === 0 || archived}
                    aria-label={t('flow.moveUp')}
                    title={t('flow.moveUp')}
                  >
                    <Icon name="up" size={17} />
                  </button>
                  <button
                    type="button"
                    className="icon-button"
                    onClick={() => moveLevel(index, 1)}
                    disabled={index === levels.length - 1 || archived}
                    aria-label={t('flow.moveDown')}
                    title={t('flow.moveDown')}
                  >
                    <Icon name="down" size={17} />
                  </button>
                  <button
                    type="button"
                    className="icon-button danger"
                    onClick={() => setLevels((list) => list.filter((_, i) => i !== index))}
                    disabled={levels.length === 1 || archived}
                    aria-label={t('flow.removeLevel')}
                    title={t('flow.removeLevel')}
                    data-testid="flow-level-remove"
                  >
                    <Icon name="trash" size={17} />
                  </button>
                </span>
              </div>

              <Field label={t('flow.levelName')} error={errorOf(`levels.${index}.name`)}>
                {(p) => (
                  <input
                    {...p}
                    className="input"
                    value={level.name}
                    onChange={(e) => updateLevel(index, { name: e.target.value })}
                    maxLength={100}
                    data-testid="flow-level-name"
                  />
                )}
              </Field>

              <fieldset className="checks">
                <legend>{t('flow.mode')}</legend>
                <div className="segmented" role="radiogroup">
                  {(['any', 'all'] as const).map((mode) => (
                    <label key={mode} className={`segment${level.mode === mode ? ' active' : ''}`}>
                      <input
                        type="radio"
                        name={`mode-${level.key}`}
                        value={mode}
                        checked={level.mode === mode}
                        onChange={() => updateLevel(index, { mode })}
                        data-testid={`flow-mode-${mode}`}
                      />
                      <span className="segment-title">{t(`mode.${mode}`)}</span>
                      <span className="segment-hint">
                        {mode === 'any' ? t('flow.modeAnyHint') : t('flow.modeAllHint')}
                      </span>
                    </label>
                  ))}
                </div>
              </fieldset>

              <div className="approvers">
                <span className="field-label">{t('flow.approvers')}</span>
                {level.approvers.map((approver, j) => (
                  <ApproverRow
                    key={approver.key}
                    draft={approver}
                    names={names}
                    error={errorOf(`levels.${index}.approvers.${j}`)}
                    onChange={(next) =>
                      updateLevel(index, { approvers: level.approvers.map((a, k) => (k === j ? next : a)) })
                    }
                    onRemove={() => updateLevel(index, { approvers: level.approvers.filter((_, k) => k !== j) })}
                  />
                ))}
                {errorOf(`levels.${index}.approvers`) && (
                  <p className="field-error approver-error">{errorOf(`levels.${index}.approvers`)}</p>
                )}
                <button
                  type="button"
                  className="button button-small"
                  onClick={() =>
                    updateLevel(index, { approvers: [...level.approvers, approverDraft(null, companyId)] })
                  }
                  disabled={level.approvers.length >= 50}
                  data-testid="flow-add-approver"
                >
                  <Icon name="plus" size={15} />
                  {t('flow.addApprover')}
                </button>
              </div>

              <div className="condition">
                <label className="check">
                  <input
                    type="checkbox"
                    checked={level.conditionOn}
                    onChange={(e) => updateLevel(index, { conditionOn: e.target.checked })}
                    data-testid="flow-condition-toggle"
                  />
                  <span>{t('flow.condition')}</span>
                </label>
                {level.conditionOn && (
                  <div className="condition-body">
                    <Field label={t('flow.minUses')} error={errorOf(`levels.${index}.condition.minUses`)} optional>
                      {(p) => (
                        <input
                          {...p}
                          className="input input-narrow"
                          type="number"
                          inputMode="numeric"
                          min={0}
                          max={10000}
                          value={level.minUses}
                          onChange={(e) => updateLevel(index, { minUses: e.target.value })}
                          data-testid="flow-min-uses"
                        />
                      )}
                    </Field>
                    <ChipChoices
                      legend={t('flow.sealTypes')}
                      options={SEAL_TYPES}
                      label={(v) => sealTypeName(i18n, v)}
                      value={level.sealTypes}
                      onChange={(sealTypes) => updateLevel(index, { sealTypes })}
                      testId="flow-seal-types"
                    />
                    <ChipChoices
                      legend={t('flow.sealKinds')}
                      options={SEAL_KINDS}
                      label={(v) => sealKindName(i18n, v)}
                      value={level.sealKinds}
                      onChange={(sealKinds) => updateLevel(index, { sealKinds })}
                      testId="flow-seal-kinds"
                    />
                    {errorOf(`levels.${index}.condition`) ? (
                      <p className="field-error approver-error">{errorOf(`levels.${index}.condition`)}</p>
                    ) : (
                      <p className="field-hint">{t('flow.conditionHint')}</p>
                    )}
                  </div>
                )}
              </div>

              <div className="form-row">
                <Field label={t('flow.remindAfter')} optional error={errorOf(`levels.${index}.remindAfterHours`)}>
                  {(p) => (
                    <input
                      {...p}
                      className="input"
                      type="number"
                      inputMode="decimal"
                      min={0}
                      step="any"
                      value={level.remindAfter}
                      onChange={(e) => updateLevel(index, { remindAfter: e.target.value })}
                    />
                  )}
                </Field>
                <Field label={t('flow.escalateAfter')} optional error={errorOf(`levels.${index}.escalateAfterHours`)}>
                  {(p) => (
                    <input
                      {...p}
                      className="input"
                      type="number"
                      inputMode="decimal"
                      min={0}
                      step="any"
                      value={level.escalateAfter}
                      onChange={(e) => updateLevel(index, { escalateAfter: e.target.value })}
                    />
                  )}
                </Field>
              </div>
            </li>
          ))}
        </ol>
        {errorOf('levels') && <p className="field-error approver-error">{errorOf('levels')}</p>}
        <button
          type="button"
          className="button add-level"
          onClick={() =>
            setLevels((list) => [...list, levelDraft(null, t('flow.newLevelName', { n: list.length + 1 }), companyId)])
          }
          disabled={levels.length >= 20 || archived}
          data-testid="flow-add-level"
        >
          <Icon name="plus" size={16} />
          {t('flow.addLevel')}
        </button>

        <section className="card" data-testid="flow-cc">
          <h2>{t('flow.cc')}</h2>
          {cc.length === 0 && <p className="muted small">{t('flow.noCc')}</p>}
          {cc.map((approver, j) => (
            <ApproverRow
              key={approver.key}
              draft={approver}
              names={names}
              error={errorOf(`cc.${j}`)}
              onChange={(next) => setCc((list) => list.map((a, k) => (k === j ? next : a)))}
              onRemove={() => setCc((list) => list.filter((_, k) => k !== j))}
            />
          ))}
          <button
            type="button"
            className="button button-small"
            onClick={() => setCc((list) => [...list, approverDraft(null, companyId)])}
            disabled={cc.length >= 50}
            data-testid="flow-add-cc"
          >
            <Icon name="plus" size={15} />
            {t('flow.addCc')}
          </button>
        </section>

        <section className="card" data-testid="flow-two-person">
          <h2>{t('flow.twoPerson')}</h2>
          <p className="muted small">{t('flow.twoPersonHint')}</p>
          <label className="toolbar-check">
            <input
              type="checkbox"
              checked={allowSame}
              onChange={(e) => setAllowSame(e.target.checked)}
              disabled={archived}
              data-testid="flow-allow-same-approver"
            />
            {t('flow.allowSameApprover')}
          </label>
        </section>

        {!archived && (
          <div className="editor-actions">
            <ProblemMessage
              error={save.error && Object.keys(server).length === 0 ? save.error : null}
              testId="flow-problem"
            />
            {flow && <p className="muted small">{t('flow.versionNote', { n: flow.version + 1 })}</p>}
            <div className="form-actions">
              <Link to="/flows" className="button">
                {t('common.cancel')}
              </Link>
              <button type="submit" className="button button-primary" disabled={save.busy} data-testid="flow-save">
                {save.busy ? t('common.saving') : flow ? t('common.save') : t('common.create')}
              </button>
            </div>
          </div>
        )}
      </form>

      {archiving && flow && (
        <ConfirmDialog
          title={t('flow.archive')}
          message={t('flow.archiveConfirm', { name: flow.name })}
          confirmLabel={t('flow.archive')}
          danger
          busy={archive.busy}
          error={<ProblemMessage error={archive.error} />}
          onConfirm={() => void archive.run()}
          onCancel={() => setArchiving(false)}
        />
      )}
    </>
  );
}

/** Who approves: a type, and the person or the role and company it needs. */
function ApproverRow({
  draft,
  names,
  error,
  onChange,
  onRemove,
}: {
  draft: ApproverDraft;
  names: Map<string, string>;
  error?: string | undefined;
  onChange: (d: ApproverDraft) => void;
  onRemove: () => void;
}) {
  const i18n = useI18n();
  const { t } = i18n;
  const permissions = usePermissionSet();
  const [picking, setPicking] = useState(false);
  const personName = draft.user ? draft.user.name || names.get(draft.user.id) || '…' : null;
  return (
    <div className={`approver${error ? ' invalid' : ''}`} data-testid="approver-row" data-type={draft.type}>
      <div className="approver-row">
        <select
          className="input approver-type"
          value={draft.type}
          onChange={(e) => onChange({ ...draft, type: e.target.value as ApproverType })}
          aria-label={t('approver.type')}
          data-testid="approver-type"
        >
          {APPROVER_TYPES.map((type) => (
            <option key={type} value={type}>
              {t(`approver.${type}`)}
            </option>
          ))}
        </select>
        {draft.type === 'user' && (
          <button
            type="button"
            className="button approver-person"
            onClick={() => setPicking(true)}
            data-testid="approver-person"
          >
            <Icon name="user" size={16} />
            <span className="approver-person-name">{personName ?? t('flow.choosePerson')}</span>
          </button>
        )}
        {draft.type === 'role' && (
          <>
            <select
              className="input approver-role"
              value={draft.role}
              onChange={(e) => onChange({ ...draft, role: e.target.value as Role })}
              aria-label={t('role.role')}
              data-testid="approver-role"
            >
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {roleName(i18n, r)}
                </option>
              ))}
            </select>
            <CompanySelect
              value={draft.companyId}
              onChange={(companyId) => onChange({ ...draft, companyId })}
              aria-label={t('role.scope')}
              className="input approver-company"
              data-testid="approver-company"
            />
          </>
        )}
        <button
          type="button"
          className="icon-button danger approver-remove"
          onClick={onRemove}
          aria-label={t('common.remove')}
          title={t('common.remove')}
        >
          <Icon name="close" size={17} />
        </button>
      </div>
      {error && <p className="field-error approver-error">{error}</p>}
      {picking && (
        <Modal title={t('flow.chooseUser')} onClose={() => setPicking(false)} testId="approver-picker-dialog">
          <PersonPicker
            value={draft.user}
            onChange={(person) => {
              onChange({ ...draft, user: person });
              if (person) setPicking(false);
            }}
            canSearch={permissions.has('org.read')}
            testId="approver-picker"
          />
        </Modal>
      )}
    </div>
  );
}

function ChipChoices<T extends string>({
  legend,
  options,
  label,
  value,
  onChange,
  testId,
}: {
  legend: string;
  options: readonly T[];
  label: (v: T) => string;
  value: T[];
  onChange: (v: T[]) => void;
  testId: string;
}) {
  return (
    <fieldset className="checks chip-choices" data-testid={testId}>
      <legend>{legend}</legend>
      <div className="chip-row">
        {options.map((option) => {
          const on = value.includes(option);
          return (
            <label key={option} className={`chip-choice${on ? ' on' : ''}`}>
              <input
                type="checkbox"
                checked={on}
                onChange={() => onChange(on ? value.filter((v) => v !== option) : [...value, option])}
                data-value={option}
              />
              {label(option)}
            </label>
          );
        })}
      </div>
    </fieldset>
  );
}
