import {
  PARTICIPANT_KINDS,
  PARTICIPANT_ROLES,
  type ParticipantKind,
  type ParticipantRole,
  type Person,
} from '../../api';
import { useI18n } from '../../i18n';
import { usePermissionSet } from '../../session';
import { Field } from '../../ui/Field';
import { Icon } from '../../ui/Icons';
import { PersonPicker } from '../../ui/PersonPicker';
import { CompanySelect } from '../companies/CompanySelect';
import { isOutside, newParticipant, type ParticipantDraft } from './draft';

/** An electronic seal that can sign for a company: from the seals I may use, and the library when I may read it. */
export interface SealOption {
  id: string;
  name: string;
  code: string;
  companyId: string;
  companyName: string;
}

/**
 * Who takes part, in which step: our company (sealed with one of its electronic seals by the
 * person named), a person of the group, or someone outside it (a person, or a person for an
 * organisation) reached by phone or e-mail. Everyone of a step acts before the next step opens.
 */
export function ParticipantsEditor({
  participants,
  onChange,
  seals,
  companies,
  me,
  problems,
}: {
  participants: ParticipantDraft[];
  onChange: (participants: ParticipantDraft[]) => void;
  seals: SealOption[];
  /** Companies to choose from without the directory (no org.read): mine and my seals' companies. */
  companies: Array<{ id: string; name: string }>;
  me: Person;
  problems: Record<string, string>;
}) {
  const { t } = useI18n();
  const set = (key: string, patch: Partial<ParticipantDraft>) =>
    onChange(participants.map((p) => (p.key === key ? { ...p, ...patch } : p)));
  const nextStep = Math.max(0, ...participants.map((p) => p.step)) + 1;

  return (
    <div className="participants" data-testid="participants">
      {participants.map((p, index) => (
        <ParticipantCard
          key={p.key}
          index={index}
          participant={p}
          onChange={(patch) => set(p.key, patch)}
          onRemove={participants.length > 1 ? () => onChange(participants.filter((x) => x.key !== p.key)) : undefined}
          seals={seals}
          companies={companies}
          me={me}
          problems={problems}
        />
      ))}
      <button
        type="button"
        className="button"
        onClick={() => onChange([...participants, newParticipant({ kind: 'outside_person', step: nextStep })])}
        data-testid="participant-add"
      >
        <Icon name="plus" size={16} />
        {t('contract.addParticipant')}
      </button>
    </div>
  );
}

function ParticipantCard({
  index,
  participant: p,
  onChange,
  onRemove,
  seals,
  companies,
  me,
  problems,
}: {
  index: number;
  participant: ParticipantDraft;
  onChange: (patch: Partial<ParticipantDraft>) => void;
  onRemove: (() => void) | undefined;
  seals: SealOption[];
  companies: Array<{ id: string; name: string }>;
  me: Person;
  problems: Record<string, string>;
}) {
  const { t, tx, fieldText } = useI18n();
  const canSearch = usePermissionSet().has('org.read');
  const at = `participants.${index}`;
  const error = (name: string) => problems[`${at}.${name}`];
  const companySeals = seals.filter((s) => s.companyId === p.companyId);
  const roles = PARTICIPANT_ROLES.filter((r) => !(isOutside(p.kind) && r === 'approver'));

  const chooseKind = (kind: ParticipantKind) =>
    onChange({
      kind,
      ...(kind === 'company' ? { person: p.person ?? me } : { person: kind === 'person' ? p.person : null }),
      ...(isOutside(kind) && p.role === 'approver' ? { role: 'signer' as ParticipantRole } : {}),
    });
  const chooseCompany = (companyId: string) => {
    const own = seals.filter((s) => s.companyId === companyId);
    onChange({
      companyId,
      sealId: own.some((s) => s.id === p.sealId) ? p.sealId : own.length === 1 ? own[0]!.id : '',
    });
  };

  return (
    <fieldset className="card participant" data-testid="participant" data-index={index} data-kind={p.kind}>
      <legend className="participant-legend">
        <span className="participant-number">{index + 1}</span>
        {t('contract.participantN', { n: index + 1 })}
      </legend>
      {onRemove && (
        <button
          type="button"
          className="icon-button participant-remove"
          onClick={onRemove}
          aria-label={t('contract.removeParticipant')}
          data-testid="participant-remove"
        >
          <Icon name="trash" size={16} />
        </button>
      )}
      <div className="segmented segmented-4 participant-kinds" role="radiogroup" aria-label={t('contract.kind')}>
        {PARTICIPANT_KINDS.map((kind) => (
          <label key={kind} className={`segment${p.kind === kind ? ' active' : ''}`}>
            <input
              type="radio"
              name={`participant-kind-${p.key}`}
              value={kind}
              checked={p.kind === kind}
              onChange={() => chooseKind(kind)}
              data-testid={`participant-kind-${kind}`}
            />
            <span className="segment-title">{tx(`participantKind.${kind}`, kind)}</span>
          </label>
        ))}
      </div>
      <div className="form-row">
        <Field label={t('contract.role')}>
          {(props) => (
            <select
              {...props}
              className="input"
              value={p.role}
              onChange={(e) => onChange({ role: e.target.value as ParticipantRole })}
              data-testid="participant-role"
            >
              {roles.map((r) => (
                <option key={r} value={r}>
                  {tx(`participantRole.${r}`, r)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label={t('contract.step')} hint={t('contract.stepHint')} error={error('step')} className="input-narrow">
          {(props) => (
            <input
              {...props}
              className="input"
              type="number"
              min={1}
              max={50}
              inputMode="numeric"
              value={p.step}
              onChange={(e) => onChange({ step: Math.min(50, Math.max(1, Math.round(Number(e.target.value) || 1))) })}
              data-testid="participant-step"
            />
          )}
        </Field>
      </div>

      {p.kind === 'company' && (
        <>
          <Field label={t('contract.company')} error={error('companyId')}>
            {(props) =>
              canSearch ? (
                <CompanySelect
                  {...props}
                  value={p.companyId}
                  onChange={chooseCompany}
                  data-testid="participant-company"
                />
              ) : (
                <select
                  {...props}
                  className="input"
                  value={p.companyId}
                  onChange={(e) => chooseCompany(e.target.value)}
                  data-testid="participant-company"
                >
                  {!p.companyId && <option value="">{t('company.select')}</option>}
                  {companies.map((c) => (
                    <option key={c.id} value={c.id}>
                      {c.name}
                    </option>
                  ))}
                </select>
              )
            }
          </Field>
          {p.role === 'signer' && (
            <>
              <Field
                label={t('contract.seal')}
                hint={companySeals.length === 0 && p.companyId ? t('contract.noSealsHere') : t('contract.sealHint')}
                error={error('sealId')}
              >
                {(props) => (
                  <select
                    {...props}
                    className="input"
                    value={p.sealId}
                    onChange={(e) => onChange({ sealId: e.target.value })}
                    data-testid="participant-seal"
                  >
                    <option value="">{t('contract.chooseSeal')}</option>
                    {companySeals.map((s) => (
                      <option key={s.id} value={s.id} data-code={s.code}>
                        {`${s.name} (${s.code})`}
                      </option>
                    ))}
                  </select>
                )}
              </Field>
              <div className={`field${error('userId') ? ' field-invalid' : ''}`}>
                <span className="field-label">{t('contract.stamper')}</span>
                <PersonPicker
                  value={p.person}
                  onChange={(person) => onChange({ person })}
                  canSearch={canSearch}
                  known={[me]}
                  knownLabel={t('contract.stamperHint')}
                  invalid={Boolean(error('userId'))}
                  testId="participant-stamper"
                />
                {error('userId') && <p className="field-error">{fieldText(error('userId')!)}</p>}
              </div>
            </>
          )}
        </>
      )}

      {p.kind === 'person' && (
        <div className={`field${error('userId') ? ' field-invalid' : ''}`}>
          <span className="field-label">{t('contract.person')}</span>
          <PersonPicker
            value={p.person}
            onChange={(person) => onChange({ person })}
            canSearch={canSearch}
            known={[me]}
            invalid={Boolean(error('userId'))}
            testId="participant-person"
          />
          {error('userId') && <p className="field-error">{fieldText(error('userId')!)}</p>}
        </div>
      )}

      {isOutside(p.kind) && (
        <>
          {p.kind === 'outside_org' && (
            <Field label={t('contract.orgName')} error={error('orgName')}>
              {(props) => (
                <input
                  {...props}
                  className="input"
                  value={p.orgName}
                  maxLength={200}
                  onChange={(e) => onChange({ orgName: e.target.value })}
                  data-testid="participant-org"
                />
              )}
            </Field>
          )}
          <Field label={p.kind === 'outside_org' ? t('contract.orgPerson') : t('contract.name')} error={error('name')}>
            {(props) => (
              <input
                {...props}
                className="input"
                value={p.name}
                maxLength={100}
                autoComplete="off"
                onChange={(e) => onChange({ name: e.target.value })}
                data-testid="participant-name"
              />
            )}
          </Field>
          <div className="form-row">
            <Field label={t('contract.phone')} error={error('phone')}>
              {(props) => (
                <input
                  {...props}
                  className="input"
                  type="tel"
                  inputMode="tel"
                  value={p.phone}
                  maxLength={20}
                  autoComplete="off"
                  onChange={(e) => onChange({ phone: e.target.value })}
                  data-testid="participant-phone"
                />
              )}
            </Field>
            <Field label={t('contract.email')} optional error={error('email')}>
              {(props) => (
                <input
                  {...props}
                  className="input"
                  type="email"
                  value={p.email}
                  maxLength={200}
                  autoComplete="off"
                  onChange={(e) => onChange({ email: e.target.value })}
                  data-testid="participant-email"
                />
              )}
            </Field>
          </div>
          <p className="field-hint">{t('contract.contactHint')}</p>
        </>
      )}
    </fieldset>
  );
}
