/**
 * A real node for the browser tests: the wiring on the test Redis with the
 * real LLM agent, served over HTTP on 127.0.0.1 (`serveService`: requests
 * without a token are the local admin), local repositories allowed.
 * The model is the scripted OpenAI wire-protocol server; the repository is a
 * real git repository with a bug and a failing test.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentWorkFor } from '../../server/agent.ts';
import { loadConfig } from '../../server/config.ts';
import { createLogger } from '../../kernel/logger.ts';
import type { Service } from '../../server/service.ts';
import {
  startOpenAIServer,
  type OpenAIServer,
  type ScriptedReply,
} from '../agent/llm/openai-server.ts';
import { makeTestRepo } from '../support/git-repo.ts';
import { serveService } from '../support/service/served.ts';
import { dropPrefix, redisUrl, uniquePrefix } from '../support/stores.ts';

/** The only key the scripted model accepts: typed into the profile form, never shown back. */
export const MODEL_KEY = 'sk-browser-test-SECRET-7f3a';

export interface BrowserServer {
  /** `http://127.0.0.1:{port}`, no trailing slash. */
  url: string;
  service: Service;
  llm: OpenAIServer;
  /** The repository with the failing test (an absolute path). */
  repo: string;
  /** The node's log lines, to scan for secrets. */
  lines: string[];
  /** GET/POST on the API as the local admin; the parsed JSON answer. */
  api(method: string, path: string, body?: unknown): Promise<any>;
  close(): Promise<void>;
}

export async function startBrowserServer(): Promise<BrowserServer> {
  const llm = await startOpenAIServer({ apiKey: MODEL_KEY });
  const dir = await mkdtemp(join(tmpdir(), 'swe-browser-'));
  const repo = await makeTestRepo(join(dir, 'origin'), {
    'package.json': '{ "type": "module" }\n',
    'src/add.js': 'export const add = (a, b) => a - b;\n',
    'test.js':
      "import { add } from './src/add.js';\nif (add(2, 3) !== 5) { console.error('FAIL: add(2, 3) = ' + add(2, 3)); process.exit(1); }\nconsole.log('ok');\n",
  });
  const prefix = uniquePrefix();
  const config = loadConfig({
    REDIS_URL: redisUrl(),
    REDIS_PREFIX: prefix,
    SECRET_KEY: 'browser-tests-secret-key-0123456789',
    HOST: '127.0.0.1',
    PORT: '0',
    NODE_ID: 'browser-node',
    LOG_LEVEL: 'info',
    ALLOW_LOCAL_REPOS: 'true',
    WORKSPACE_DIR: join(dir, 'workspace'),
  });
  const lines: string[] = [];
  const logger = createLogger({
    level: 'info',
    base: { node: 'browser-node' },
    write: (l) => lines.push(l),
  });

  const served = await serveService(
    config,
    ({ config: c, profiles, store, secrets }) => agentWorkFor(c.agent, profiles, store, secrets),
    { logger, requireProfile: true },
  );
  const { url } = served;

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${url}${path} → ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };

  return {
    url,
    service: served.service,
    llm,
    repo,
    lines,
    api,
    async close() {
      await served.close();
      await llm.close();
      await dropPrefix(prefix);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

let n = 0;

/** One scripted model turn that calls `name` with `args`. */
export const call = (name: string, args: unknown): ScriptedReply => ({
  kind: 'completion',
  toolCalls: [{ id: `call_${++n}`, name, arguments: JSON.stringify(args) }],
  usage: { prompt_tokens: 200, completion_tokens: 20 },
});

/** The planner reads the code and submits a plan. */
export const plan = (summary = 'Fix add()'): ScriptedReply[] => [
  call('read_file', { path: 'src/add.js' }),
  call('submit_plan', { summary, steps: ['Make add() add', 'Run node test.js'] }),
];
/** The programmer fixes the bug and runs the test. */
export const fix = (): ScriptedReply[] => [
  call('edit_file', { path: 'src/add.js', old_text: 'a - b', new_text: 'a + b' }),
  call('run_command', { command: 'node test.js' }),
  call('finish', { summary: 'add() now adds' }),
];
/** The reviewer runs the test and approves. */
export const review = (): ScriptedReply[] => [
  call('run_command', { command: 'node test.js' }),
  call('submit_review', { approved: true, feedback: 'Tests pass.' }),
];
/** The answer to the profile check ("Test connection"). */
export const connectionOk = (): ScriptedReply => ({
  kind: 'completion',
  content: 'ok',
  usage: { prompt_tokens: 5, completion_tokens: 1 },
});
