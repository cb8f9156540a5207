import { describe, expect, it } from 'vitest';
import { migrateDown, migrateToLatest } from '../src/db/migrate.js';
import { openTestDatabase } from './support/database.js';

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
