// Lint rules that stand for decisions: no `any`, no floating promises, no `==`, only
// repositories (and src/db) may build SQL with Kysely, the signing engine is used only through
// src/signing/index.ts, and each module of src/modules only through its index.ts.
import tseslint from 'typescript-eslint';

/** The signing engine's one door: src/signing/index.ts (issue 13; STYLE.md "Modules have doors"). */
const signingDoor = {
  regex: '(^|/)signing/(?!index\\.js$)',
  message: 'Use the signing engine through src/signing/index.ts; add what you need to its exports.',
};

/** A module's door, seen from another module (`../<module>/…`). */
const moduleDoor = {
  regex: '^\\.\\./[a-z-]+/(?!index\\.js$)',
  message:
    'Use another module through its index.ts; add what you need to its exports (or move it to where it belongs).',
};

/** A module's door, seen from outside src/modules (`…/modules/<module>/…`). */
const modulesDoor = {
  regex: '(^|/)modules/[a-z-]+/(?!index\\.js$)',
  message: 'Use a module through its index.ts; add what you need to its exports.',
};

export default tseslint.config(
  { ignores: ['dist/**', 'web/dist/**', 'node_modules/**', 'data/**', '.scratch/**', '.bench/**', 'test-output/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['src/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // Outside the engine, the signing engine only through its door, and modules through theirs.
    files: ['src/**/*.ts'],
    ignores: ['src/signing/**', 'src/modules/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [signingDoor, modulesDoor] }] },
  },
  {
    // A module uses another only through its door; repositories too.
    files: ['src/modules/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [signingDoor, moduleDoor] }] },
  },
  {
    files: ['src/modules/**/*.ts'],
    ignores: ['src/modules/**/*.repository.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'kysely',
              message: 'Only repositories build SQL; call a repository function.',
              allowTypeImports: true,
            },
          ],
          patterns: [signingDoor, moduleDoor],
        },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'CallExpression[callee.property.name=/^(selectFrom|updateTable|insertInto|deleteFrom)$/]',
          message: 'Only repositories build SQL; call a repository function.',
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
