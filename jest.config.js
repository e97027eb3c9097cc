/**
 * Test lanes, as jest projects (`npm run test:<lane>`; `npm test` runs them all in one jest run):
 * - unit:        pure code and in-process fakes, no local server: feedback in seconds
 * - component:   a part of the local stack for real (dynalite, the Step Functions emulator, the
 *                ModelArts simulator, the local HTTP server and stand-ins): a test/unit file that
 *                imports from local/ or the test table (test/support/dynamodb) is a component test, decided here
 * - cdk:         CDK assertions on the synthesized stacks
 * - e2e:         the whole local stack as a user runs it (`poolgate start` as a child process)
 * - reliability: crashes, faults, races and load on the whole local stack
 */
const { readdirSync, readFileSync } = require('node:fs');
const { availableParallelism } = require('node:os');
const { join } = require('node:path');

const UNIT_DIR = join(__dirname, 'test/unit');
/** An import of the local stack's parts, or of the fixture that starts dynalite with poolgate's table. */
const USES_LOCAL_STACK = /from '(?:\.\.\/)+(?:local\/[^']*|support\/dynamodb)'/;

const unitDirFiles = readdirSync(UNIT_DIR).filter((f) => f.endsWith('.test.ts'));
const componentFiles = unitDirFiles.filter((f) => USES_LOCAL_STACK.test(readFileSync(join(UNIT_DIR, f), 'utf8')));
const pureFiles = unitDirFiles.filter((f) => !componentFiles.includes(f));

/** What every lane shares. */
const base = {
  testEnvironment: 'node',
  rootDir: __dirname,
  transform: { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  setupFilesAfterEnv: ['aws-sdk-client-mock-jest'],
  modulePathIgnorePatterns: ['<rootDir>/cdk.out', '<rootDir>/.poolgate'],
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 30000,
  // Jest's default is one worker fewer than the cores: a single worker on a 2-core CI machine, while
  // the e2e and reliability suites mostly wait on their local stacks (child processes). Two at least.
  maxWorkers: Math.max(2, availableParallelism() - 1),
  projects: [
    { ...base, displayName: 'unit', testMatch: pureFiles.map((f) => `<rootDir>/test/unit/${f}`) },
    { ...base, displayName: 'component', testMatch: componentFiles.map((f) => `<rootDir>/test/unit/${f}`) },
    { ...base, displayName: 'cdk', testMatch: ['<rootDir>/test/cdk/**/*.test.ts'] },
    { ...base, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
    { ...base, displayName: 'reliability', testMatch: ['<rootDir>/test/reliability/**/*.test.ts'] },
  ],
};
