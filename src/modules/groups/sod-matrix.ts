import type { Role } from '../../db/schema.js';

/** Pairs of roles one person may not hold together (三员分立), per group. */
export type SodMatrix = Array<[Role, Role]>;

/** Sorted pairs without duplicates, so the stored matrix has one spelling. */
export function normaliseSodMatrix(pairs: SodMatrix): SodMatrix {
  const seen = new Map<string, [Role, Role]>();
  for (const [a, b] of pairs) {
    if (a === b) continue;
    const pair: [Role, Role] = a < b ? [a, b] : [b, a];
    seen.set(pair.join('|'), pair);
  }
  return [...seen.values()].sort((x, y) => x.join('|').localeCompare(y.join('|')));
}

/** The first role a person already holds that conflicts with `role`, by the group's matrix. */
export function findSodConflict(matrix: SodMatrix, held: Role[], role: Role): Role | undefined {
  return held.find((h) => h !== role && matrix.some(([a, b]) => (a === h && b === role) || (a === role && b === h)));
}
