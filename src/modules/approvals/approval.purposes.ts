import type { FlowPurpose, LifecycleAction, SealKind, SealType, Transaction } from '../../db/schema.js';
import { ExtensionPoint } from '../../lib/extension-point.js';
import type { AppContext } from '../../server/context.js';
import type { Actor } from '../access/index.js';
import type { AuditActor } from '../audit/index.js';

export interface SealFacts {
  id: string;
  name: string;
  kind: SealKind;
  type: SealType;
  companyId: string;
  companyPath: string;
  companyName: string;
}

/** What an application records, once its purpose has checked the applicant's input. */
export interface CheckedApplication {
  category: string | null;
  lifecycleAction: LifecycleAction | null;
  payload: Record<string, unknown>;
  reason: string;
  uses: number;
  photosPerUse: number;
  /** The files to stamp, uploaded first (POST /documents/uploads) and named by hash. */
  documents?: Array<{ sha256: string; name: string }> | undefined;
  /** The seals the application names (their custodians may approve it) and the company whose flow decides it. */
  seals: SealFacts[];
  company: { id: string; path: string; name: string };
  /** A seal still to be made: the keepers named for it stand for its custodians. */
  custodianIds?: string[] | undefined;
}

/**
 * What the last approval of an application changes beyond authorizations, in the approving
 * transaction under the application's lock (a seal, the group's separation of duties). A refusal
 * (an AppError) undoes the approval with it.
 */
export type ApprovalEffect = (
  ctx: Pick<AppContext, 'mailer' | 'sms'>,
  trx: Transaction,
  q: {
    groupId: string;
    actor: AuditActor;
    application: { id: string; lifecycleAction: LifecycleAction | null; payload: Record<string, unknown> };
    at: Date;
  },
) => Promise<void>;

/**
 * What an application is for: seal use (用印), a seal's lifecycle step, a change to the separation
 * of duties, and later document signing and device tickets. Approvals knows purposes only through
 * this: the module owning one provides it (`wireModules`), and the engine asks it.
 */
export interface ApplicationPurpose<Input> {
  readonly name: FlowPurpose;
  /**
   * Checks the applicant's input in the submitting transaction, before anything is written, and
   * says what the application records; refuses with an AppError. Reads go through `trx`, so a lock
   * taken here holds until the application is written.
   */
  readonly check: (ctx: AppContext, trx: Transaction, actor: Actor, input: Input) => Promise<CheckedApplication>;
  /** Approving gives authorizations to use its seals, which must still be usable at every approval. */
  readonly authorizesSeals: boolean;
  readonly approved?: ApprovalEffect | undefined;
}

/** Every application purpose, by name, provided by the modules that own them. */
export const applicationPurposes = new ExtensionPoint<ApplicationPurpose<never>>('approvals.purposes');

/** The purpose an application was made for; an application of a purpose nobody provides is a wiring error. */
export function purposeOf(name: FlowPurpose): ApplicationPurpose<never> {
  const purpose = applicationPurposes.get(name);
  if (!purpose) throw new Error(`No module provides the application purpose ${name} (src/server/wiring.ts)`);
  return purpose;
}
