/**
 * The real agent across a node's death: two node processes running
 * `server/main.ts` on one Redis, each with its own workspace directory (as
 * on two machines), the scripted model server in this process. The owner is
 * SIGKILLed while the programmer's command runs; the other node re-creates
 * the workspace from the repository and the last checkpoint, and the session
 * completes with the same diff as an undisturbed run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../runtime/store/redis/redis-store.ts';
import { redisUrl, uniquePrefix } from '../support/stores.ts';
import { Cluster } from '../support/service/processes.ts';
import { TEST_SECRET_KEY } from '../support/service/processes.ts';
import { sealedProfiles } from '../../runtime/profiles.ts';
import { createSecretBox } from '../../kernel/secret-box.ts';
import { makeTestRepo } from '../support/git-repo.ts';
import { waitFor } from '../support/wait.ts';
import {
  startOpenAIServer,
  type OpenAIServer,
  type ScriptedReply,
} from '../agent/llm/openai-server.ts';

const KEY = 'sk-test-takeover-SECRET';
let server: OpenAIServer;
let dir: string;
let origin: string;
let cluster: Cluster | undefined;
let n = 0;

const call = (name: string, args: unknown): ScriptedReply => ({
  kind: 'completion',
  toolCalls: [{ id: `call_${++n}`, name, arguments: JSON.stringify(args) }],
  usage: { prompt_tokens: 100, completion_tokens: 10 },
});
const plan = () => [
  call('read_file', { path: 'src/add.js' }),
  call('submit_plan', { summary: 'Fix add()', steps: ['Make add() add'] }),
];
const fix = (command: string) => [
  call('edit_file', { path: 'src/add.js', old_text: 'a - b', new_text: 'a + b' }),
  call('run_command', { command }),
  call('finish', { summary: 'add() now adds' }),
];
const review = () => [
  call('run_command', { command: 'node test.js' }),
  call('submit_review', { approved: true, feedback: 'ok' }),
];

beforeAll(async () => {
  server = await startOpenAIServer({ apiKey: KEY });
  dir = await mkdtemp(join(tmpdir(), 'swe-takeover-'));
  origin = await makeTestRepo(join(dir, 'origin'), {
    'package.json': '{ "type": "module" }\n',
    'src/add.js': 'export const add = (a, b) => a - b;\n',
    'test.js':
      "import { add } from './src/add.js';\nif (add(2, 3) !== 5) process.exit(1);\nconsole.log('ok');\n",
  });
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

describe('the agent across a SIGKILL', () => {
  it('a session killed in the middle of coding completes elsewhere with the undisturbed diff', async () => {
    const prefix = uniquePrefix();
    const store = await RedisStore.create({ url: redisUrl(), prefix });
    try {
      // Stored as a node would: the key sealed with the cluster's SECRET_KEY.
      const profiles = sealedProfiles(store, await createSecretBox(TEST_SECRET_KEY));
      await profiles.put({
        id: 'p',
        name: 'scripted',
        isDefault: true,
        provider: 'openai-compatible',
        model: 'scripted',
        apiKey: KEY,
        baseUrl: `${server.url}/v1`,
      });
      expect(JSON.stringify(await store.getProfile('p'))).not.toContain(KEY);
      cluster = new Cluster(redisUrl(), prefix, { leaseTtlMs: 1000, entry: 'agent' });
      const env = (node: string) => ({
        env: {
          ALLOW_LOCAL_REPOS: 'true',
          SANDBOX_TYPE: 'local',
          WORKSPACE_DIR: join(dir, `ws-${node}`),
        },
      });
      const [a] = await cluster.add(1, env('a'));
      const finished = async (id: string) =>
        waitFor(
          `session ${id} to finish`,
          async () => {
            const s = await cluster!.session(id);
            return s.status === 'COMPLETED' || s.status === 'FAILED' ? s : undefined;
          },
          60_000,
          100,
        );

      // Undisturbed, on node a alone.
      server.script(...plan(), ...fix('node test.js'), ...review());
      const calm = await finished(await cluster.create('Make the test pass', 'auto', origin));
      expect(calm.status, calm.reason).toBe('COMPLETED');

      // Disturbed: node a is killed while the programmer's command runs.
      const [b] = await cluster.add(1, env('b'));
      const before = server.requests.length;
      // The killed programmer never asks for its third reply (finish).
      server.script(...plan(), ...fix('sleep 4 && node test.js').slice(0, 2));
      const id = await cluster.create('Make the test pass', 'auto', origin);
      await waitFor(
        'the programmer to run its command',
        () => server.requests.length - before >= 4 || undefined,
        30_000,
        20,
      );
      const owner = (await cluster.session(id)).owner?.node_id;
      expect(owner, 'a node owns the session').toBeTruthy();
      const victim = owner === a!.id ? a! : b!;
      const survivor = victim === a ? b! : a!;
      // What the new owner's models say: the coding step again from its start, then the review.
      server.script(...fix('node test.js'), ...review());
      await victim.kill();
      const done = await finished(id);
      expect(server.pending()).toBe(0);
      expect(done.status, done.reason).toBe('COMPLETED');
      // The lease is given up once the ended session's sandbox is cleaned up.
      await waitFor(
        'passivation after cleanup',
        async () => (await cluster!.session(id)).owner === null || undefined,
        10_000,
        50,
      );
      expect(done.epoch).toBeGreaterThanOrEqual(2);
      expect(done.result.diff).toBe(calm.result.diff);
      expect(done.logs).toContain(
        'Re-creating the workspace from the repository and the last checkpoint...',
      );
      const history = await store.getHistory(id);
      expect(history.at(-1)).toMatchObject({ to: 'completed', node: survivor.id });
    } finally {
      await store.close();
    }
  });
});
