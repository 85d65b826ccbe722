/**
 * The architecture, written down: the floors of the house and what each may
 * import. `npm run lint` checks the tree against it (CI runs it), and
 * `test/dependency-rules.test.ts` shows it refusing an upward import.
 *
 * From the bottom:
 *   kernel/   0  errors, logger, redaction, metrics, clock, back-off, hashing, secret box, version
 *   actors/   1  the pure session core: the machine, its events, statuses, snapshot schema, work contract
 *   runtime/  2  the engine: node, session hosts, leases, admission, the store port and its adapters
 *   sandbox/  2  an adapter: where commands run (local directories, Daytona)
 *   agent/    2  an adapter: planner, programmer, reviewer and their LLM providers
 *   api/      3  the HTTP API and the web UI
 *   server/   4  the wiring: configuration, service assembly, the Node and Deno entry points
 * A floor imports only floors below it; on floor 2 only the agent uses
 * another folder (the sandbox port): the engine and the adapters meet in server/.
 */
const MAY_IMPORT = {
  kernel: [],
  actors: ['kernel'],
  runtime: ['kernel', 'actors'],
  sandbox: ['kernel'],
  agent: ['kernel', 'actors', 'sandbox'],
  api: ['kernel', 'actors', 'runtime', 'sandbox'],
  server: ['kernel', 'actors', 'runtime', 'sandbox', 'agent', 'api'],
};
const FOLDERS = Object.keys(MAY_IMPORT);

/** npm packages that only one place may load: each is an adapter's own concern (or too heavy to load elsewhere). */
const PACKAGE_HOMES = {
  xstate: '^(actors|runtime)/',
  ioredis: '^runtime/store/redis/',
  '@daytonaio/sdk': '^sandbox/daytona[.-]',
  openai: '^agent/llm/openai\\.ts$',
  '@google/genai': '^agent/llm/gemini\\.ts$',
  elkjs: '^api/chart-layout\\.ts$',
  hono: '^(api|server)/',
  '@hono/node-server': '^server/serve-node\\.ts$',
  zod: '^api/',
};

const floorRules = FOLDERS.map((folder) => ({
  name: `floor-${folder}`,
  comment: `${folder}/ may import only ${MAY_IMPORT[folder].length ? MAY_IMPORT[folder].map((f) => `${f}/`).join(', ') : 'itself'}: a floor never imports one above it`,
  severity: 'error',
  from: { path: `^${folder}/` },
  to: {
    path: `^(${[...FOLDERS.filter((f) => f !== folder && !MAY_IMPORT[folder].includes(f)), 'test'].join('|')})/`,
  },
}));

const packageRules = Object.entries(PACKAGE_HOMES).map(([pkg, home]) => ({
  name: `package-${pkg.replace(/[@/]/g, '')}`,
  comment: `${pkg} is loaded only where it belongs (${home})`,
  severity: 'error',
  from: { path: `^(${FOLDERS.join('|')})/`, pathNot: home },
  to: { path: `(^|/)node_modules/${pkg.replace(/[.]/g, '\\.')}/` },
}));

export default {
  forbidden: [
    {
      name: 'no-circular',
      comment:
        'an import cycle: two files that need each other are one concern, or a contract is missing',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'portable-core',
      comment:
        'the kernel and the session core use web-standard APIs only (they run on Node and Deno, and in tests without I/O)',
      severity: 'error',
      from: { path: '^(kernel|actors)/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import that leads nowhere',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    ...floorRules,
    ...packageRules,
    {
      name: 'core-sqlite',
      comment:
        "node:sqlite is the SQLite adapter's own concern (runtime/store/sqlite/): the rest of the service knows only the store port",
      severity: 'error',
      from: { path: `^(${FOLDERS.join('|')})/`, pathNot: '^runtime/store/sqlite/' },
      to: { dependencyTypes: ['core'], path: '^(node:)?sqlite$' },
    },
  ],
  options: {
    // A package's files are kept as leaves (not followed, but there to be
    // matched): excluding node_modules/ would drop every import of a package
    // and leave the package rules above matching nothing.
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(workspace|test-results)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
