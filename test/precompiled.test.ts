import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { precompiled } from '../src/db/precompiled.js';
import { buildCompany, buildGroup, createWorld, type GroupFixture, type World } from './support/world.js';

let world: World;
let group: GroupFixture;
beforeAll(async () => {
  world = await createWorld();
  group = await buildGroup(world);
});
afterAll(() => world.close());

describe('precompiled reads', () => {
  it('answers as the query builder does, for new values each time, keeping constants of the statement', async () => {
    const a = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: 'Alpha' });
    const b = await buildCompany(world, { groupId: group.groupId, parent: group.hq, name: 'Beta' });
    const companies = precompiled((db, where: { groupId: string; id: string }) =>
      db
        .selectFrom('companies')
        .select(['id', 'name'])
        .where('group_id', '=', where.groupId)
        .where('id', '=', where.id)
        .where('status', '=', 'active'),
    );
    expect(await companies(world.db, { groupId: group.groupId, id: a.id })).toEqual([{ id: a.id, name: 'Alpha' }]);
    expect(await companies(world.db, { groupId: group.groupId, id: b.id })).toEqual([{ id: b.id, name: 'Beta' }]);
    expect(await companies(world.db, { groupId: '01a1ff27-0000-7000-8000-000000000000', id: b.id })).toEqual([]);
  });

  it('refuses a build that writes a value into another or leaves one out', async () => {
    const concatenated = precompiled((db, where: { name: string }) =>
      db.selectFrom('companies').select('id').where('name', 'like', `${where.name}%`),
    );
    await expect(concatenated(world.db, { name: 'Al' })).rejects.toThrow(/made part of another/);
    const unused = precompiled((db, _where: { name: string }) => db.selectFrom('companies').select('id'));
    await expect(unused(world.db, { name: 'Al' })).rejects.toThrow(/never reached the statement/);
  });
});
