import { describe, expect, it } from 'vitest';
import { migrateDown, migrateToLatest } from '../src/db/migrate.js';
import { openTestDatabase } from './support/database.js';
import { createGroup } from '../src/modules/group-setup/group-setup.service.js';
import { sodChangeFlowDefinition } from '../src/modules/sod-changes/sod-change.service.js';
import { flowDefinition } from '../src/modules/approvals/flow.schema.js';

describe('migrations', () => {
  it('every migration goes down and up again cleanly', async () => {
    const handle = await openTestDatabase();
    try {
      const reverted: string[] = [];
      for (;;) {
        const names = await migrateDown(handle.db);
        if (names.length === 0) break;
        reverted.push(...names);
      }
      expect(reverted.at(-1)).toBe('20261121T1000-foundation');
      const applied = await migrateToLatest(handle.db);
      expect(applied).toEqual([...reverted].reverse());
    } finally {
      await handle.close();
    }
  });
});

describe('migration 20261206T1120 (separation-of-duties changes)', () => {
  it('gives a group that existed before it the same built-in flow a new group gets', async () => {
    const handle = await openTestDatabase();
    try {
      const { groupId, companyId } = await createGroup(
        handle.db,
        {
          name: 'Older group',
          slug: 'older',
          headCompany: { name: 'Older HQ', code: 'HQ' },
          admin: {
            email: 'older-admin@example.test',
            name: 'Admin',
            password: 'correct horse battery',
            mustChangePassword: false,
          },
        },
        { system: 'test' },
      );
      const definitionOf = async () =>
        (
          await handle.db
            .selectFrom('flows as f')
            .innerJoin('flow_versions as v', 'v.flow_id', 'f.id')
            .select(['f.company_id as companyId', 'v.definition'])
            .where('f.group_id', '=', groupId)
            .where('f.purpose', '=', 'sod_change')
            .execute()
        ).map((r) => ({ companyId: r.companyId, definition: flowDefinition.parse(r.definition) }));
      const made = await definitionOf();
      expect(made).toEqual([{ companyId, definition: sodChangeFlowDefinition(companyId) }]);
      // Back to before the migration (the flow goes), then forward again: the migration makes it.
      for (;;) {
        const [name] = await migrateDown(handle.db);
        if (name === '20261206T1120-sod-change') break;
      }
      expect(await definitionOf()).toEqual([]);
      await migrateToLatest(handle.db);
      expect(await definitionOf()).toEqual(made);
    } finally {
      await handle.close();
    }
  });
});
