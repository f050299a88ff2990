/**
 * The import rules of src (docs/architecture.md draws them): dependencies point inward, the use cases and the
 * engine know nothing of each other (the composition roots, src/runtimes and src/cli, wire them), and there are
 * no cycles. `npm run check:imports` (and .ci/run) fails on any of them.
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
      comment: 'Use cases, the engine and the runtimes are called by HTTP and the CLI, never the other way round.',
      from: { path: '^src/(app|engine|runtimes|core|store|platforms|lib)/' },
      to: { path: '^src/(http|cli)/' },
    },
    {
      name: 'runtimes-are-composition-roots',
      severity: 'error',
      comment: 'src/runtimes (the wired engine, simulate, forecast) sits beside the CLI: nothing below it imports it.',
      from: { path: '^src/(app|engine|core|store|platforms|lib)/' },
      to: { path: '^src/runtimes/' },
    },
    {
      name: 'engine-owns-its-ports',
      severity: 'error',
      comment: 'The engine declares the ports it needs (engine/ports.ts) instead of importing use cases.',
      from: { path: '^src/engine/' },
      to: { path: '^src/app/' },
    },
    {
      name: 'use-cases-know-no-engine',
      severity: 'error',
      comment: 'Use cases never call the engine: what they need of it (lead waits) is a port of the app context.',
      from: { path: '^src/app/' },
      to: { path: '^src/engine/' },
    },
    {
      name: 'lib-is-domain-free',
      severity: 'error',
      comment: 'src/lib holds building blocks with no domain (the polling loop): it imports nothing else of src.',
      from: { path: '^src/lib/' },
      to: { path: '^src/', pathNot: '^src/lib/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles, type-only imports included.',
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
