/**
 * Jest runs the TypeScript sources through ts-jest in transpile-only mode: `npm test`
 * type-checks the whole tree with `tsc` first (pretest), so doing it again per file
 * would only slow the suite down. End-to-end tests spawn the compiled `dist/` processes.
 * `npm test` runs Jest under `node --experimental-vm-modules`: the default gateway plans
 * with @graphql-hive/router-runtime's Rust planner, which loads its native module with a
 * dynamic import(), and Jest's module VM allows that only with the flag.
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }],
  },
  setupFiles: ['reflect-metadata'],
  testTimeout: 60_000,
  maxWorkers: 2,
};
