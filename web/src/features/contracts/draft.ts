import {
  FIELD_TYPES,
  type ContractDraft,
  type FieldType,
  type ParticipantKind,
  type ParticipantRole,
  type Person,
} from '../../api';
import type { Rect } from './geometry';

/**
 * The new-contract form as it is being filled in, and the request it becomes. Participants and
 * fields carry a local key (a field names its participant by key), so reordering or removing a
 * participant never points a field at someone else; the API's indexes are made only on submit.
 */

export const SEAL_FIELD_TYPES: readonly FieldType[] = ['company_seal', 'cross_page_seal', 'legal_rep_seal'];
export const PERSON_FIELD_TYPES: readonly FieldType[] = FIELD_TYPES.filter((t) => !SEAL_FIELD_TYPES.includes(t));

/** Fields whose value the signer types when signing (the others are signatures). */
export const VALUE_FIELD_TYPES: readonly FieldType[] = ['date', 'text', 'checkbox'];

/** The fields a participant of `kind` fills: a company seals, a person signs; both fill values. */
export function fieldTypesFor(kind: ParticipantKind): readonly FieldType[] {
  return kind === 'company' ? [...SEAL_FIELD_TYPES, ...VALUE_FIELD_TYPES] : PERSON_FIELD_TYPES;
}

export interface ParticipantDraft {
  key: string;
  role: ParticipantRole;
  step: number;
  kind: ParticipantKind;
  /** kind company */
  companyId: string;
  sealId: string;
  /** kind company: who applies the seal; kind person: the person */
  person: Person | null;
  /** outside participants */
  name: string;
  orgName: string;
  phone: string;
  email: string;
}

export interface FieldDraft {
  key: string;
  participantKey: string;
  type: FieldType;
  /** Placed on a page (rect in PDF points), by keyword, or neither for a cross-page seal. */
  page?: number;
  rect?: Rect;
  keyword?: string;
}

let counter = 0;
export const newKey = (prefix: string) => `${prefix}${++counter}`;

export function newParticipant(patch: Partial<ParticipantDraft> = {}): ParticipantDraft {
  return {
    key: newKey('p'),
    role: 'signer',
    step: 1,
    kind: 'company',
    companyId: '',
    sealId: '',
    person: null,
    name: '',
    orgName: '',
    phone: '',
    email: '',
    ...patch,
  };
}

/** Only signers fill fields, and only fields of their kind; a change of role or kind drops the others. */
export function fieldsStillValid(fields: FieldDraft[], participants: ParticipantDraft[]): FieldDraft[] {
  return fields.filter((f) => {
    const owner = participants.find((p) => p.key === f.participantKey);
    return owner?.role === 'signer' && fieldTypesFor(owner.kind).includes(f.type);
  });
}

export const isOutside = (kind: ParticipantKind) => kind === 'outside_person' || kind === 'outside_org';

/** What each participant still lacks, keyed like the server's field names (`participants.0.sealId`). */
export function participantProblems(participants: ParticipantDraft[]): Record<string, 'required' | 'contact'> {
  const problems: Record<string, 'required' | 'contact'> = {};
  participants.forEach((p, i) => {
    const at = `participants.${i}`;
    if (p.kind === 'company') {
      if (!p.companyId) problems[`${at}.companyId`] = 'required';
      if (p.role === 'signer' && !p.sealId) problems[`${at}.sealId`] = 'required';
      if (p.role === 'signer' && !p.person) problems[`${at}.userId`] = 'required';
    } else if (p.kind === 'person') {
      if (!p.person) problems[`${at}.userId`] = 'required';
    } else {
      if (!p.name.trim()) problems[`${at}.name`] = 'required';
      if (p.kind === 'outside_org' && !p.orgName.trim()) problems[`${at}.orgName`] = 'required';
      if (p.role !== 'cc' && !p.phone.trim() && !p.email.trim()) problems[`${at}.phone`] = 'contact';
    }
  });
  return problems;
}

export interface ContractForm {
  title: string;
  category: string;
  number: string;
  effectiveOn: string;
  expiresOn: string;
  /** A datetime-local value (the reader's local time). */
  deadline: string;
  remindEveryDays: string;
  documentSha256: string;
  /** Internal signers give an authenticator code when signing. */
  requireSecondFactor?: boolean;
  /** Outside signers pass this check with the configured identity provider. */
  identityCheck?: '' | 'real_name' | 'face';
}

const trimmed = (value: string) => value.trim() || undefined;

/** The request: participants in the order shown, fields pointing at them by index. */
export function toContractBody(
  form: ContractForm,
  participants: ParticipantDraft[],
  fields: FieldDraft[],
): ContractDraft {
  const index = new Map(participants.map((p, i) => [p.key, i]));
  const body: ContractDraft = {
    title: form.title.trim(),
    category: form.category,
    documentSha256: form.documentSha256,
    participants: participants.map((p) => {
      const base = { role: p.role, step: p.step, kind: p.kind };
      if (p.kind === 'company')
        return {
          ...base,
          companyId: p.companyId,
          ...(p.role === 'signer' && p.sealId ? { sealId: p.sealId } : {}),
          ...(p.person ? { userId: p.person.id } : {}),
        };
      if (p.kind === 'person') return { ...base, ...(p.person ? { userId: p.person.id } : {}) };
      return {
        ...base,
        name: p.name.trim(),
        ...(p.kind === 'outside_org' ? { orgName: p.orgName.trim() } : {}),
        ...(trimmed(p.phone) ? { phone: p.phone.trim() } : {}),
        ...(trimmed(p.email) ? { email: p.email.trim() } : {}),
      };
    }),
    fields: fieldsStillValid(fields, participants).map((f) => ({
      participant: index.get(f.participantKey)!,
      type: f.type,
      ...(f.page !== undefined ? { page: f.page } : {}),
      ...(f.rect ? { rect: f.rect } : {}),
      ...(f.keyword ? { keyword: f.keyword } : {}),
    })),
  };
  const number = trimmed(form.number);
  if (number) body.number = number;
  if (form.effectiveOn) body.effectiveOn = form.effectiveOn;
  if (form.expiresOn) body.expiresOn = form.expiresOn;
  if (form.deadline) {
    const at = new Date(form.deadline);
    if (!Number.isNaN(at.getTime())) body.deadline = at.toISOString();
  }
  const every = Number(form.remindEveryDays);
  if (form.remindEveryDays.trim() && Number.isInteger(every)) body.remindEveryDays = every;
  // Not in the generated body type until schema.d.ts is regenerated: added as the server takes them.
  if (form.requireSecondFactor) Object.assign(body, { requireSecondFactor: true });
  if (form.identityCheck) Object.assign(body, { identityCheck: form.identityCheck });
  return body;
}
