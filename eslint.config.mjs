import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.demo/**', 'reports/**', '.stryker-tmp/**'] },
  { files: ['jest.config.js'], languageOptions: { sourceType: 'commonjs', globals: { module: 'writable' } } },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // The domain is pure: no I/O library and nothing of the project's outside itself.
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['../*', 'node:*', 'fs', 'http', 'https', 'net', 'ioredis', 'bullmq', 'pino'],
              message: 'src/domain is pure.',
            },
          ],
        },
      ],
    },
  },
  {
    // Dependency direction (DESIGN): commands/ and jobs/ → src; only main.ts wires them in.
    files: ['src/**/*.ts'],
    ignores: ['src/main.ts', 'src/domain/**', 'src/adapters/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/commands', '**/commands/*', '**/jobs', '**/jobs/*'],
              message: 'src/ never imports commands/ or jobs/.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/adapters/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: '@slack/bolt', message: 'Adapters never import Bolt.' }],
          patterns: [
            {
              group: ['**/procedures', '**/procedures/*', '**/slack', '**/slack/*', '**/queue', '**/queue/*'],
              message: 'Adapters depend on src/domain only.',
            },
          ],
        },
      ],
    },
  },
);
