/** @type {import('jest').Config} */
const common = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': 'ts-jest' },
};

module.exports = {
  // Network tests bind ephemeral ports; two workers keep a 2-core machine responsive.
  maxWorkers: 2,
  testTimeout: 30000,
  projects: [
    // No socket, no process: checks on hand-built facts, schemas, verdicts, the runner with fake probes.
    {
      ...common,
      displayName: 'unit',
      roots: ['<rootDir>/test/unit'],
      testMatch: ['<rootDir>/test/unit/*.test.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/unit/no-io.ts'],
    },
    // In-process peers on loopback (ssh2, aedes, Node http/https) and end-to-end runs of the CLI.
    { ...common, displayName: 'integration', roots: ['<rootDir>/test'], testMatch: ['<rootDir>/test/*.test.ts'] },
    {
      ...common,
      displayName: 'lab',
      roots: ['<rootDir>/test/lab'],
      testMatch: ['<rootDir>/test/lab/*.test.ts'],
      // Brings the reference lab up once for every lab test and down after;
      // runs only when a lab test is selected.
      globalSetup: '<rootDir>/test/lab/global-setup.ts',
      globalTeardown: '<rootDir>/test/lab/global-teardown.ts',
    },
  ],
};
