// The lint rules that stand for architecture decisions, attacked: a deep import into the signing
// engine or into another module, and a query built outside a repository, must fail `npm run lint`.
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const eslint = new ESLint({ cwd: new URL('..', import.meta.url).pathname });

async function problems(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

describe('lint doors', () => {
  it('refuses a module reaching past src/signing/index.ts, and lets it through the door', async () => {
    const deep = await problems(
      'src/modules/seals/seal.service.ts',
      "import { signPdf } from '../../signing/pades.js';\nexport const sign = signPdf;\n",
    );
    expect(deep.join('\n')).toMatch(/no-restricted-imports: .*signing engine through src\/signing\/index\.ts/);
    const cli = await problems(
      'src/cli/pdf.ts',
      "import { PdfDocument } from '../signing/pdf/parser.js';\nexport const load = PdfDocument.load;\n",
    );
    expect(cli.join('\n')).toMatch(/no-restricted-imports/);
    const door = await problems(
      'src/modules/seals/seal.service.ts',
      "import { signPdf } from '../../signing/index.js';\nexport const sign = signPdf;\n",
    );
    expect(door.filter((p) => p.startsWith('no-restricted-imports'))).toEqual([]);
  });

  it("refuses a module, a repository or the server reaching past another module's index.ts, and lets it through the door", async () => {
    const fromModule = await problems(
      'src/modules/seals/seal.service.ts',
      "import { findUser } from '../users/user.repository.js';\nexport const find = findUser;\n",
    );
    expect(fromModule.join('\n')).toMatch(/no-restricted-imports: .*another module through its index\.ts/);
    const fromRepository = await problems(
      'src/modules/seals/seal.repository.ts',
      "import type { Actor } from '../access/principal.js';\nexport type A = Actor;\n",
    );
    expect(fromRepository.join('\n')).toMatch(/no-restricted-imports/);
    const fromServer = await problems(
      'src/server/app.ts',
      "import { sealRoutes } from '../modules/seals/seal.routes.js';\nexport const routes = sealRoutes;\n",
    );
    expect(fromServer.join('\n')).toMatch(/no-restricted-imports: .*module through its index\.ts/);
    const door = await problems(
      'src/modules/seals/seal.service.ts',
      "import { findUser } from '../users/index.js';\nimport { scopeOf } from './seal.policy.js';\nexport const both = [findUser, scopeOf];\n",
    );
    expect(door.filter((p) => p.startsWith('no-restricted-imports'))).toEqual([]);
  });

  it('refuses SQL built in a service, not in a repository', async () => {
    const found = await problems(
      'src/modules/seals/seal.service.ts',
      "import type { Db } from '../../db/schema.js';\nexport const list = (db: Db) => db.selectFrom('seals').selectAll().execute();\n",
    );
    expect(found.join('\n')).toMatch(/no-restricted-syntax: Only repositories build SQL/);
  });
});
