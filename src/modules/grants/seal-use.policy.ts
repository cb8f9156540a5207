import type { Db, SealStatus, Transaction } from '../../db/schema.js';
import { findUseFacts } from './grant.repository.js';

export const businessCategories = ['personnel', 'procurement', 'sales', 'legal', 'finance'] as const;

/** A business category: one of the standard ones, or `custom:<name>`. */
export function isBusinessCategory(value: string): boolean {
  return (businessCategories as readonly string[]).includes(value) || /^custom:[^\s:][^:]{0,39}$/u.test(value);
}

export type UseRefusal = 'seal_not_found' | 'seal_not_usable' | 'user_inactive' | 'custodian' | 'no_grant';

export type UseDecision =
  | {
      allowed: true;
      grant: {
        id: string;
        granteeType: 'user' | 'department' | 'role';
        validUntil: Date | null;
        remainingUses: number | null;
      };
    }
  | { allowed: false; reason: UseRefusal; sealStatus?: SealStatus };

/**
 * The one answer to "may user U use seal S for category K now, and by which grant?",
 * used everywhere a seal is used. Run it on the transaction that uses the seal, so the
 * answer holds for that use (invariant 2 of the brief).
 */
export async function decideSealUse(
  db: Db | Transaction,
  q: { groupId: string; sealId: string; userId: string; category: string; at: Date },
): Promise<UseDecision> {
  const facts = await findUseFacts(db, q);
  if (!facts.sealStatus) return { allowed: false, reason: 'seal_not_found' };
  if (facts.sealStatus !== 'active') return { allowed: false, reason: 'seal_not_usable', sealStatus: facts.sealStatus };
  if (facts.userStatus !== 'active') return { allowed: false, reason: 'user_inactive' };
  // Separation of duties: whoever keeps a seal may not also use it.
  if (facts.isCustodian) return { allowed: false, reason: 'custodian' };
  if (!facts.grant) return { allowed: false, reason: 'no_grant' };
  const { grant } = facts;
  return {
    allowed: true,
    grant: {
      id: grant.id,
      granteeType: grant.granteeType,
      validUntil: grant.validUntil ? new Date(grant.validUntil) : null,
      remainingUses: grant.maxUses === null ? null : grant.maxUses - grant.usedCount,
    },
  };
}
