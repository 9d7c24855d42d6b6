/**
 * @kubernetes/client-node 1.x and its OIDC dependencies ship only ES modules. Node 20.19+ loads them
 * from CommonJS natively (require(esm)), but Jest's module system does not, so Jest compiles just
 * those packages to CommonJS with Babel.
 */
const ESM_PACKAGES = ['@kubernetes/client-node', 'openid-client', 'oauth4webapi', 'jose'];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
    [`node_modules/(${ESM_PACKAGES.join('|')})/.+\\.js$`]: [
      'babel-jest',
      { babelrc: false, configFile: false, plugins: ['@babel/plugin-transform-modules-commonjs'] },
    ],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_PACKAGES.join('|')})/)`],
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Stryker's sandboxes hold a copy of the project (package.json included) while a mutation run is on.
  modulePathIgnorePatterns: ['<rootDir>/.stryker-tmp/'],
  testTimeout: 30000,
  // Integration and e2e suites share one Redis; two workers keep the run under the 2-core budget.
  maxWorkers: 2,
};
