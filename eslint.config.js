// Lint rules that stand for decisions: no `any`, no floating promises, no `==`, only
// repositories (and src/db) may build SQL with Kysely, and the signing engine is used only
// through src/signing/index.ts.
import tseslint from 'typescript-eslint';

/** The signing engine's one door: src/signing/index.ts (issue 13; STYLE.md "Modules have doors"). */
const signingDoor = {
  regex: '(^|/)signing/(?!index\\.js$)',
  message: 'Use the signing engine through src/signing/index.ts; add what you need to its exports.',
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
    // Outside the engine, the signing engine only through its door (every file under src/).
    files: ['src/**/*.ts'],
    ignores: ['src/signing/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [signingDoor] }] },
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
          patterns: [signingDoor],
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
