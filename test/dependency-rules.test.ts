/**
 * The layering rule file (`dependency-rules.mjs`) holds on the tree, and
 * would refuse what it forbids: it is run here on a small tree of the same
 * folders with one upward import, one cycle, one sideways import on floor 2,
 * a `node:` module in the core, ioredis outside the Redis adapter,
 * node:sqlite outside the SQLite adapter and `@google/genai` outside the
 * Gemini adapter.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const RULES = join(ROOT, 'dependency-rules.mjs');
const DEPCRUISE = join(ROOT, 'node_modules', '.bin', 'depcruise');
const FOLDERS = ['kernel', 'actors', 'runtime', 'sandbox', 'agent', 'api', 'server'];

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

/** The violations depcruise finds under `cwd` (it exits 1 when there are any). */
async function violations(cwd: string, folders: string[]): Promise<Violation[]> {
  const args = ['--config', RULES, '--output-type', 'json', ...folders];
  const out = await run(DEPCRUISE, args, { cwd, maxBuffer: 64 << 20 }).then(
    (r) => r.stdout,
    (err: { stdout?: string }) => err.stdout ?? '',
  );
  return (JSON.parse(out) as { summary: { violations: Violation[] } }).summary.violations;
}

describe('the layering rules', () => {
  it('hold on this tree: no file imports a floor above its own, no cycle', async () => {
    const found = await violations(ROOT, [...FOLDERS, 'test']);
    expect(found.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
  });

  describe('on a tree that breaks them', () => {
    let dir: string;
    const files: Record<string, string> = {
      'package.json': '{"type": "module"}',
      'tsconfig.json': JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          allowImportingTsExtensions: true,
          noEmit: true,
        },
      }),
      // Upward: the kernel reaching for the wiring.
      'kernel/clock.ts': "import { port } from '../server/config.ts';\nexport const now = port;\n",
      'server/config.ts': 'export const port = 8000;\n',
      // A cycle inside one floor.
      'runtime/node.ts': "import { host } from './host.ts';\nexport const node = host;\n",
      'runtime/host.ts': "import { node } from './node.ts';\nexport const host = () => node;\n",
      // Sideways on floor 2: an adapter reaching into the engine.
      'sandbox/local.ts':
        "import { node } from '../runtime/node.ts';\nexport const local = node;\n",
      // The core doing I/O.
      'actors/machine.ts':
        "import { readFileSync } from 'node:fs';\nexport const m = readFileSync;\n",
      // A package outside its home, and the same package at home.
      'api/app.ts':
        "import { Redis } from 'ioredis';\nimport { node } from '../runtime/node.ts';\nexport const app = [Redis, node];\n",
      'runtime/store/redis/store.ts': "import { Redis } from 'ioredis';\nexport const r = Redis;\n",
      // node:sqlite outside the SQLite adapter, and at home.
      'server/data.ts':
        "import { DatabaseSync } from 'node:sqlite';\nexport const d = DatabaseSync;\n",
      'runtime/store/sqlite/db.ts':
        "import { DatabaseSync } from 'node:sqlite';\nexport const d = DatabaseSync;\n",
      // A package loaded on first use is still loaded: outside its home, and at home.
      'agent/plan.ts':
        "export const load = () => import('@google/genai').then((m) => m.GoogleGenAI);\n",
      'agent/llm/gemini.ts':
        "export const load = () => import('@google/genai').then((m) => m.GoogleGenAI);\n",
      // The packages, as real folders under node_modules/ as in the project
      // (a link to the project's node_modules resolves outside this tree and
      // would hide a rule that never matches there).
      'node_modules/ioredis/package.json':
        '{"name": "ioredis", "type": "module", "exports": "./index.js"}',
      'node_modules/ioredis/index.js': 'export class Redis {}\n',
      'node_modules/@google/genai/package.json':
        '{"name": "@google/genai", "type": "module", "exports": "./index.js"}',
      'node_modules/@google/genai/index.js': 'export class GoogleGenAI {}\n',
      // Allowed: the wiring imports every floor; the agent uses the sandbox port.
      'agent/work.ts': "import { local } from '../sandbox/local.ts';\nexport const w = local;\n",
      'server/main.ts':
        "import { app } from '../api/app.ts';\nimport { w } from '../agent/work.ts';\nexport default [app, w];\n",
    };

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'swe-layers-'));
      for (const [path, text] of Object.entries(files)) {
        await mkdir(dirname(join(dir, path)), { recursive: true });
        await writeFile(join(dir, path), text);
      }
    });
    afterAll(async () => rm(dir, { recursive: true, force: true }));

    it('names each broken rule, and only those', async () => {
      const found = await violations(dir, FOLDERS);
      // A package shows as the file it resolves to.
      const seen = found.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
      expect(seen).toEqual(
        [
          'floor-kernel: kernel/clock.ts → server/config.ts',
          'floor-sandbox: sandbox/local.ts → runtime/node.ts',
          'no-circular: runtime/host.ts → runtime/node.ts',
          'package-ioredis: api/app.ts → node_modules/ioredis/index.js',
          'package-googlegenai: agent/plan.ts → node_modules/@google/genai/index.js',
          'portable-core: actors/machine.ts → fs',
          'core-sqlite: server/data.ts → node:sqlite',
        ].sort(),
      );
    });
  });
});
