// ESLint flat config: typescript-eslint's recommended type-checked rules on all TypeScript, configured once.
// `npm run lint` runs it; `npm test` (and so CI) runs the lint lane.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: [
      'node_modules/',
      'cdk.out/',
      '.poolgate/',
      'coverage/',
      '.scratch/',
      'bench/results/',
      'docs/screenshots/',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // The house marks a deliberately unused binding with a leading underscore (`const { pk: _pk, ...record }`
      // drops the key attributes from a stored item), as tsc's noUnusedLocals/noUnusedParameters accept.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    // The local stack's servers and stand-ins implement async interfaces (a `handle()` the HTTP server awaits):
    // an async method that needs no await still turns a synchronous throw into the rejection the server answers.
    files: ['local/**/*.ts'],
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Tests read untyped JSON on purpose (HTTP answers, synthesized CloudFormation templates, parsed mails,
      // wrong-typed request bodies) and the expect() that follows is the check: typing each read adds noise,
      // not safety.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      // Fakes implement the async ports (stores, ModelArts, notifier) with async functions that need no await.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Plain JavaScript (the CLI's launcher, the jest and ESLint configs) is outside tsconfig: no type information.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      globals: { process: 'readonly', module: 'writable', require: 'readonly', __dirname: 'readonly' },
    },
  },
  {
    // jest reads its config as CommonJS (the package is not "type": "module").
    files: ['**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
