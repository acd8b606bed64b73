// Native ESM Jest (run through `node --experimental-vm-modules`), TypeScript via SWC.
import { swcOptions } from './test/support/swc-options.mjs';
const transform = { '^.+\\.ts$': ['@swc/jest', swcOptions] };

const shared = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform,
};

export default {
  projects: [
    { ...shared, displayName: 'unit', roots: ['<rootDir>/src'], testMatch: ['**/*.spec.ts'] },
    {
      ...shared,
      displayName: 'integration',
      roots: ['<rootDir>/test/integration'],
      testMatch: ['**/*.spec.ts'],
    },
    {
      ...shared,
      displayName: 'e2e',
      roots: ['<rootDir>/test/e2e'],
      testMatch: ['**/*.e2e-spec.ts'],
      setupFiles: ['<rootDir>/test/support/quiet-known-warnings.mjs'],
    },
  ],
  globalSetup: '<rootDir>/test/support/global-setup.mjs',
  globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
  testTimeout: 60_000,
  // One worker, recycled once its heap passes this after a suite. Run in band, the
  // heap grew to ~1 GB over the run and its major GCs paused the process (and the
  // servers tests host in it) for up to 512 ms; recycled, the worst pause measured
  // in the rate-budget suite was 44 ms and the whole run was 6 % faster.
  workerIdleMemoryLimit: '512MB',
};
