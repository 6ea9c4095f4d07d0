// @ts-check
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import importX from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * The layers, top to bottom: a file may import only from its own layer or the ones below it
 * (apps → adapters → application → domain). `import-x/no-cycle` keeps every layer free of import circles.
 */
const layers = ['apps', 'adapters', 'application', 'domain'];
const upward = layers.flatMap((layer, i) =>
  layers.slice(0, i).map((above) => ({
    target: `./${layer}`,
    from: `./${above}`,
    message: `${layer}/ sits below ${above}/: imports point only down (apps → adapters → application → domain).`,
  })),
);

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'data/',
      'dist/',
      'coverage/',
      'docs/',
      'adapters/web/dist/',
      'adapters/web/src/api/schema.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    plugins: { 'import-x': importX },
    settings: { 'import-x/extensions': ['.ts', '.js'], 'import-x/resolver': { node: { extensions: ['.ts', '.js'] } } },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': ['error', { zones: upward }],
      'import-x/no-self-import': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports' }],
      eqeqeq: ['error', 'always'],
      // A `let` that closures read before start-up assigns it is not a `const`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // Input rules reject control characters on purpose; their regular expressions name them.
      'no-control-regex': 'off',
      'no-restricted-syntax': [
        'error',
        {
          selector: 'TSEnumDeclaration',
          message: 'Use a union of string literals (an io-ts keyof codec) instead of an enum.',
        },
        // SQLite (3.47 on) plans with the value bound to a bare `LIMIT ?`, so a new binding re-prepares the statement,
        // and better-sqlite3 clears the bindings after every run: each run was parsed and planned again (~4.5 µs,
        // three times a short indexed read). To the planner `? + 0` is an expression, not a parameter.
        ...['Literal[value=/LIMIT \\?(?! \\+ 0)/i]', 'TemplateElement[value.raw=/LIMIT \\?(?! \\+ 0)/i]'].map(
          (selector) => ({
            selector,
            message:
              'Write `LIMIT ? + 0`: with a bare parameter as its LIMIT, SQLite prepares the statement again on every run.',
          }),
        ),
      ],
    },
  },
  {
    files: ['domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!fp-ts/|io-ts$|io-ts/|\\.{1,2}/)',
              message: 'domain/ is pure: it imports nothing but fp-ts, io-ts and other domain files.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['apps/**/*.ts', 'adapters/**/*.ts', 'application/**/*.ts', 'domain/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 120, skipBlankLines: true, skipComments: true, IIFEs: true }] },
  },
  {
    // The web app runs in the browser and talks to the server only over HTTP: it imports nothing of the server's.
    files: ['adapters/web/src/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './adapters/web/src',
              from: './',
              except: ['./adapters/web/src', './node_modules'],
              message: 'The web app uses the public HTTP API only: it imports nothing from the server.',
            },
          ],
        },
      ],
    },
  },
  {
    // Tests and declaration files may cast freely; production code may not.
    files: ['tests/**/*.ts', '**/*.d.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  prettier,
);
