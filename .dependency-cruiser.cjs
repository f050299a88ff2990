/**
 * The import rules of src (docs in README's layout table): dependencies point inward. `npm run check:imports`
 * (and .ci/run) fails on an error. The architecture issue's remaining steps (the engine's own ports, no cycles)
 * are warnings until they are done, so the run shows what is left without failing on it.
 */
module.exports = {
  forbidden: [
    {
      name: 'core-is-pure',
      severity: 'error',
      comment: 'src/core is pure logic: it imports only itself (types of the store schema aside).',
      from: { path: '^src/core/' },
      to: { path: '^src/', pathNot: '^src/core/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'store-below-use-cases',
      severity: 'error',
      comment: 'The store knows nothing of use cases, the engine, HTTP, platforms or the CLI.',
      from: { path: '^src/store/' },
      to: { path: '^src/(app|engine|http|platforms|cli)/' },
    },
    {
      name: 'platforms-below-use-cases',
      severity: 'error',
      comment: 'Platform adapters use the store and the core, never the use cases, the engine, HTTP or the CLI.',
      from: { path: '^src/platforms/' },
      to: { path: '^src/(app|engine|http|cli)/' },
    },
    {
      name: 'use-cases-below-delivery',
      severity: 'error',
      comment: 'Use cases and the engine are called by HTTP and the CLI, never the other way round.',
      from: { path: '^src/(app|engine|core|store|platforms)/' },
      to: { path: '^src/(http|cli)/' },
    },
    {
      name: 'engine-owns-its-ports',
      severity: 'warn',
      comment: 'The engine should declare the ports it needs instead of importing use cases (architecture issue, step 4).',
      from: { path: '^src/engine/' },
      to: { path: '^src/app/' },
    },
    {
      name: 'no-circular',
      severity: 'warn',
      comment: 'No import cycles (architecture issue: the prospects and threads presenters, app and engine).',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.build.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
