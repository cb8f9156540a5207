import { describe, expect, it } from 'vitest';
import { auditActions } from './audit.events.js';
import { changesPrincipals } from './audit.service.js';

describe('which changes drop cached principals', () => {
  it('covers every change to sessions, people, roles, keys and the company tree, and nothing of seals or approvals', () => {
    const dropping = auditActions.filter(changesPrincipals);
    for (const action of [
      'user.status_changed',
      'user.password_changed',
      'role.assigned',
      'role.revoked',
      'auth.signed_out',
      'session.revoked',
      'api_key.revoked',
      'company.updated',
    ] as const) {
      expect(dropping).toContain(action);
    }
    for (const action of auditActions.filter((a) =>
      /^(seal|flow|application|authorization|delegation|department)\./.test(a),
    )) {
      expect(changesPrincipals(action)).toBe(false);
    }
  });
});
