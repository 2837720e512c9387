/**
 * The layers of starbench, enforced by `npm run lint` (depcruise):
 *   cli/ (wires everything)  →  profiles/ (checks)  →  probes/, reports/  →  harness/ (the core)
 * fixtures/ (simulated devices) may use the core and probes' helpers; only cli/,
 * bench/ and test/ reach fixtures. No import cycle anywhere.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'an import cycle', from: {}, to: { circular: true } },
    {
      name: 'core-imports-no-layer-above',
      severity: 'error',
      comment: 'harness/ is the core: it imports none of cli/, probes/, profiles/, reports/, fixtures/',
      from: { path: '^harness/' },
      to: { path: '^(cli|probes|profiles|reports|fixtures|bench|test)/' },
    },
    {
      name: 'probes-below-checks-and-cli',
      severity: 'error',
      comment: 'probes record facts: they import neither checks (profiles/), reports, the CLI nor fixtures',
      from: { path: '^probes/' },
      to: { path: '^(cli|profiles|reports|fixtures|bench|test)/' },
    },
    {
      name: 'reports-below-checks-and-cli',
      severity: 'error',
      comment: 'reports render a report: they import neither probes, checks, the CLI nor fixtures',
      from: { path: '^reports/' },
      to: { path: '^(cli|probes|profiles|fixtures|bench|test)/' },
    },
    {
      name: 'profiles-below-cli',
      severity: 'error',
      comment: 'checks judge facts: they import neither the CLI, reports nor fixtures',
      from: { path: '^profiles/' },
      to: { path: '^(cli|reports|fixtures|bench|test)/' },
    },
    {
      name: 'fixtures-below-cli',
      severity: 'error',
      comment: 'fixtures are devices: they do not import the CLI, checks or reports',
      from: { path: '^fixtures/' },
      to: { path: '^(cli|profiles|reports|bench|test)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^node_modules/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
