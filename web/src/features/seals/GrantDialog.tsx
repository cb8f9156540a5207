import { useState } from 'react';
import {
  api,
  ROLES,
  STANDARD_CATEGORIES,
  type GrantDraft,
  type GranteeSpec,
  type Person,
  type Role,
  type Seal,
  type SealGrant,
} from '../../api';
import { useDepartments } from '../users/departments';
import { useMutation } from '../../hooks';
import { categoryName, roleName, useI18n } from '../../i18n';
import { useCan, usePermissionSet } from '../../session';
import { CompanySelect } from '../companies/CompanySelect';
import { Field } from '../../ui/Field';
import { Modal } from '../../ui/Modal';
import { PersonPicker } from '../../ui/PersonPicker';
import { ProblemMessage } from '../../ui/ProblemMessage';

type GranteeType = GranteeSpec['type'];
const GRANTEE_TYPES: readonly GranteeType[] = ['user', 'department', 'role'];

/** A date input's value (YYYY-MM-DD) as the local start or end of that day. */
function dayBound(value: string, end: boolean): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null;
  return end
    ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 23, 59, 59)
    : new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

/**
 * Grants the use of a seal: to a person, a department or a role over a company; for one or
 * more business categories; optionally from / until a day and for a number of uses. The
 * server refuses what separation of duties forbids (a custodian, oneself) with `sod_conflict`.
 */
export function GrantDialog({
  seal,
  onClose,
  onCreated,
}: {
  seal: Seal;
  onClose: () => void;
  onCreated: (grant: SealGrant) => void;
}) {
  const i18n = useI18n();
  const { t } = i18n;
  const can = useCan();
  const canSearch = usePermissionSet().has('org.read');
  const [type, setType] = useState<GranteeType>('user');
  const [person, setPerson] = useState<Person | null>(null);
  const [companyId, setCompanyId] = useState(seal.companyId);
  const [departmentId, setDepartmentId] = useState('');
  const [role, setRole] = useState<Role>('employee');
  const [categories, setCategories] = useState<string[]>([]);
  const [customName, setCustomName] = useState('');
  const [validFrom, setValidFrom] = useState('');
  const [validUntil, setValidUntil] = useState('');
  const [maxUses, setMaxUses] = useState('');
  const [attempted, setAttempted] = useState(false);
  const departments = useDepartments(type === 'department' ? companyId : null);
  const canGrantIn = (id: string) => can('seals.grant', id);

  const from = validFrom ? dayBound(validFrom, false) : null;
  const until = validUntil ? dayBound(validUntil, true) : null;
  const problems: Record<string, string> = {};
  if (type === 'user' && !person) problems['grantee.userId'] = t('field.choosePerson');
  if (type === 'department' && !departmentId) problems['grantee.departmentId'] = t('field.required');
  if (type === 'role' && !companyId) problems['grantee.companyId'] = t('field.required');
  if (categories.length === 0) problems.categories = t('field.chooseCategory');
  if (until && until.getTime() <= Math.max(Date.now(), from?.getTime() ?? 0))
    problems.validUntil = t('field.laterThanStart');
  if (maxUses.trim() && !/^[1-9]\d{0,6}$/.test(maxUses.trim())) problems.maxUses = t('field.atLeast1');

  const grantee = (): GranteeSpec =>
    type === 'user'
      ? { type, userId: person!.id }
      : type === 'department'
        ? { type, departmentId }
        : { type, role, companyId };
  const create = useMutation(() => {
    const draft: GrantDraft = {
      grantee: grantee(),
      categories,
      ...(from ? { validFrom: from.toISOString() } : {}),
      ...(until ? { validUntil: until.toISOString() } : {}),
      ...(maxUses.trim() ? { maxUses: Number(maxUses.trim()) } : {}),
    };
    return api.createGrant(seal.id, draft);
  }, onCreated);
  const server = create.error?.fieldErrors() ?? {};
  const errorOf = (field: string): string | undefined => (attempted ? problems[field] : undefined) ?? server[field];

  const toggle = (category: string) =>
    setCategories((list) => (list.includes(category) ? list.filter((c) => c !== category) : [...list, category]));
  const addCustom = () => {
    const name = customName.trim();
    if (!name || name.includes(':')) return;
    const category = `custom:${name}`;
    setCategories((list) => (list.includes(category) ? list : [...list, category]));
    setCustomName('');
  };
  const custom = categories.filter((c) => c.startsWith('custom:'));

  const send = () => {
    setAttempted(true);
    create.reset();
    if (Object.keys(problems).length === 0) void create.run();
  };

  return (
    <Modal
      title={`${t('grant.new')} · ${seal.name}`}
      onClose={onClose}
      testId="grant-dialog"
      focusFirstField={false}
      footer={
        <>
          <button type="button" className="button" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button
            type="button"
            className="button button-primary"
            disabled={create.busy}
            onClick={send}
            data-testid="grant-submit"
          >
            {create.busy ? t('common.saving') : t('grant.create')}
          </button>
        </>
      }
    >
      <ProblemMessage
        error={create.error && Object.keys(server).length === 0 ? create.error : null}
        testId="grant-problem"
      />
      <fieldset className="checks">
        <legend>{t('seal.grantee')}</legend>
        <div className="segmented segmented-3" role="radiogroup">
          {GRANTEE_TYPES.map((g) => (
            <label key={g} className={`segment${type === g ? ' active' : ''}`}>
              <input
                type="radio"
                name="grantee-type"
                value={g}
                checked={type === g}
                onChange={() => setType(g)}
                data-testid={`grantee-type-${g}`}
              />
              <span className="segment-title">{t(`grant.type.${g}`)}</span>
            </label>
          ))}
        </div>
      </fieldset>
      {type === 'user' && (
        <div className={`field${errorOf('grantee.userId') ? ' field-invalid' : ''}`}>
          <span className="field-label">{t('grant.type.user')}</span>
          <PersonPicker
            value={person}
            onChange={(p) => {
              setPerson(p);
              create.reset();
            }}
            canSearch={canSearch}
            invalid={Boolean(errorOf('grantee.userId'))}
            testId="grantee-picker"
          />
          {errorOf('grantee.userId') && <p className="field-error">{i18n.fieldText(errorOf('grantee.userId')!)}</p>}
        </div>
      )}
      {type !== 'user' && (
        <div className="form-row">
          <Field label={t('seal.company')} error={errorOf('grantee.companyId')}>
            {(p) => (
              <CompanySelect
                {...p}
                value={companyId}
                onChange={(id) => {
                  setCompanyId(id);
                  setDepartmentId('');
                }}
                filter={canGrantIn}
                data-testid="grantee-company"
              />
            )}
          </Field>
          {type === 'department' ? (
            <Field label={t('user.department')} error={errorOf('grantee.departmentId')}>
              {(p) => (
                <select
                  {...p}
                  className="input"
                  value={departmentId}
                  onChange={(e) => setDepartmentId(e.target.value)}
                  data-testid="grantee-department"
                >
                  <option value="">{t('grant.chooseDepartment')}</option>
                  {departments.map((d) => (
                    <option key={d.id} value={d.id}>
                      {d.name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          ) : (
            <Field label={t('role.role')} error={errorOf('grantee.role')}>
              {(p) => (
                <select
                  {...p}
                  className="input"
                  value={role}
                  onChange={(e) => setRole(e.target.value as Role)}
                  data-testid="grantee-role"
                >
                  {ROLES.map((r) => (
                    <option key={r} value={r}>
                      {roleName(i18n, r)}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          )}
        </div>
      )}
      <fieldset className={`checks${errorOf('categories') ? ' field-invalid' : ''}`} data-testid="grant-categories">
        <legend>{t('seal.categories')}</legend>
        <div className="chip-row">
          {STANDARD_CATEGORIES.map((c) => (
            <label key={c} className={`chip-choice${categories.includes(c) ? ' on' : ''}`}>
              <input
                type="checkbox"
                checked={categories.includes(c)}
                onChange={() => toggle(c)}
                data-testid={`grant-category-${c}`}
              />
              {categoryName(i18n, c)}
            </label>
          ))}
          {custom.map((c) => (
            <label key={c} className="chip-choice on">
              <input type="checkbox" checked onChange={() => toggle(c)} />
              {categoryName(i18n, c)}
            </label>
          ))}
        </div>
        <div className="custom-category">
          <input
            className="input"
            value={customName}
            onChange={(e) => setCustomName(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                addCustom();
              }
            }}
            maxLength={40}
            placeholder={t('category.customName')}
            aria-label={t('category.customName')}
            data-testid="grant-custom-category"
          />
          <button type="button" className="button" onClick={addCustom} disabled={!customName.trim()}>
            {t('grant.addCategory')}
          </button>
        </div>
        {errorOf('categories') && <p className="field-error">{i18n.fieldText(errorOf('categories')!)}</p>}
      </fieldset>
      <div className="form-row">
        <Field label={t('grant.validFrom')} optional hint={t('grant.validFromHint')} error={errorOf('validFrom')}>
          {(p) => (
            <input
              {...p}
              type="date"
              className="input"
              value={validFrom}
              onChange={(e) => setValidFrom(e.target.value)}
              data-testid="grant-valid-from"
            />
          )}
        </Field>
        <Field label={t('seal.validUntil')} optional hint={t('grant.validUntilHint')} error={errorOf('validUntil')}>
          {(p) => (
            <input
              {...p}
              type="date"
              className="input"
              value={validUntil}
              onChange={(e) => setValidUntil(e.target.value)}
              data-testid="grant-valid-until"
            />
          )}
        </Field>
      </div>
      <Field label={t('grant.maxUses')} optional hint={t('grant.maxUsesHint')} error={errorOf('maxUses')}>
        {(p) => (
          <input
            {...p}
            type="number"
            inputMode="numeric"
            min={1}
            step={1}
            className="input input-narrow"
            value={maxUses}
            onChange={(e) => setMaxUses(e.target.value)}
            data-testid="grant-max-uses"
          />
        )}
      </Field>
    </Modal>
  );
}
