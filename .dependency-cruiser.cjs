// Dependencies point one way: edges (controllers, processors) → services →
// repositories/clients → infra. `npm run lint` enforces it.
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'nothing-imports-an-edge',
      comment: 'Controllers and processors are entry points; nothing may depend on them.',
      severity: 'error',
      from: { pathNot: '\\.module\\.ts$' },
      to: { path: '\\.(controller|processor)\\.ts$' },
    },
    {
      name: 'catalogue-stays-data',
      comment: 'The provider catalogue never reaches into connections, sync or the HTTP edges.',
      severity: 'error',
      from: { path: '^src/providers/' },
      to: { path: '^src/(connections|sync|connect|internal-api|refresh|auth)/' },
    },
    {
      name: 'infra-is-the-bottom',
      comment: 'Infrastructure adapters know nothing of features.',
      severity: 'error',
      from: { path: '^src/infra/' },
      to: {
        path: '^src/(connections|sync|connect|internal-api|refresh|auth|oauth|providers|integrations)/',
      },
    },
    {
      name: 'a-repository-belongs-to-its-feature',
      comment:
        "Another feature's repository is reached through that feature's façade service, never directly (the CLI and main.ts compose by hand).",
      severity: 'error',
      from: { path: '^src/([^/]+)/', pathNot: '^src/cli/' },
      to: { path: '\\.repository\\.ts$', pathNot: '^src/$1/' },
    },
    {
      name: 'prisma-only-in-repositories',
      comment: 'Only repositories (and infra) touch the database client.',
      severity: 'error',
      from: {
        path: '^src/',
        pathNot:
          '(\\.repository\\.ts$|^src/infra/|\\.module\\.ts$|^src/cli/|^src/health/|^src/main\\.ts$)',
      },
      to: { path: '^src/infra/prisma/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'src/infra/prisma/generated' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
