// Mutation testing (`npm run mutate`): are the safety rules guarded by tests that fail without them?
// Not part of CI: `npm test` never runs it. Incremental, so a re-run only tests changed code.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: [
    'src/procedures/**/*.ts',
    'src/domain/**/*.ts',
    'src/queue/**/*.ts',
    'src/slack/approvals.ts',
    'src/slack/authorization.ts',
    'commands/approve.ts',
    'commands/reject.ts',
  ],
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    configFile: 'jest.config.js',
    // Unit tests, plus the Slack integration tests that cover approvals and authorization. The
    // end-to-end and adapter suites are left out: they cover every engine line, so each mutant
    // would run them (minutes each, child processes, HTTP doubles) and a run would take hours.
    config: {
      testMatch: ['<rootDir>/test/unit/**/*.test.ts', '<rootDir>/test/integration/slack/**/*.test.ts'],
    },
    enableFindRelatedTests: false,
  },
  coverageAnalysis: 'perTest',
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.json',
  typescriptChecker: { prioritizePerformanceOverAccuracy: true },
  // Stryker's default only covers src/, lib/ and test/: commands/ is mutated too.
  disableTypeChecks: '{src,commands,jobs,sandbox,test}/**/*.ts',
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  // Two cores: every test process shares one Redis, each test under its own prefix.
  concurrency: 2,
  ignorePatterns: ['.demo', 'coverage', 'dist', 'reports'],
};
