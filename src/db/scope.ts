import type { ExpressionBuilder, Expression, SqlBool } from 'kysely';

/**
 * A company-subtree condition: the path column starts with one of the scope's roots.
 * Every repository query that reads company-owned rows goes through this.
 */
export function inScope<DB, TB extends keyof DB>(
  eb: ExpressionBuilder<DB, TB>,
  pathColumn: string,
  scope: string[],
): Expression<SqlBool> {
  if (scope.length === 0) return eb.val(false) as unknown as Expression<SqlBool>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const ref = eb.ref(pathColumn as any);
  return eb.or(scope.map((root) => eb(ref, 'like', `${escapeLike(root)}%`)));
}

export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}
