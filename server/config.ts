import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { ConfigError } from '../kernel/errors.ts';
import type { LogLevel } from '../kernel/logger.ts';
import { redactUrl } from '../kernel/redact.ts';

/** The node's configuration, validated once at startup. */
export interface Config {
  /**
   * Every secret the operator handed over, used by this configuration or
   * not (SECRET_KEY, ADMIN_TOKEN, REDIS_PASSWORD and REDIS_URL's password,
   * AI_API_KEY, DAYTONA_API_KEY): what logs and sandbox output must never show.
   */
  secretValues: string[];
  port: number;
  host: string;
  /** Unset: the embedded store in `dataDir` (one node only). */
  redisUrl: string | undefined;
  /**
   * Where the embedded store keeps its data without REDIS_URL (absolute), or
   * `:memory:` for the in-process store that keeps nothing; undefined when
   * neither DATA_DIR nor a home directory says where (an error only if it is needed).
   */
  dataDir: string | undefined;
  redisPrefix: string;
  nodeId: string | undefined;
  concurrency: number;
  leaseTtlMs: number;
  logLevel: LogLevel;
  /** Seals provider keys at rest; required with Redis (unset: one is made per process for the embedded store). */
  secretKey: string | undefined;
  /** The built-in admin's token (stored hashed); unset: one is generated at first start beyond loopback. */
  adminToken: string | undefined;
  /** Default limit on a user's RUNNING sessions (0: none); a user's own setting wins. */
  userMaxRunning: number;
  /** Most a user (not an admin) may set a session's budget to, at creation or by input. */
  budgetCaps: { maxCalls: number; maxTokens: number };
  /** Requests per minute per user and node (0: no limit). */
  rateLimitPerMinute: number;
  /** Host names the node answers to besides localhost, 127.0.0.1, [::1] (and HOST when it is one address); `*`: any. */
  allowedHosts: string[];
  /** Ended sessions are removed this many days after their last update (0: kept for ever). */
  sessionRetentionDays: number;
  agent: AgentConfig;
}

export interface AgentConfig {
  sandboxType: 'local' | 'daytona';
  /** Root of the local sandboxes' workspaces (absolute). */
  workspaceDir: string;
  /** `file://` URLs and local paths as repositories (tests, local use). */
  allowLocalRepos: boolean;
  /** Local sandboxes: a clone taking longer fails. */
  cloneTimeoutMs: number;
  /** Local sandboxes: a clone growing past this many bytes fails (0: no limit). */
  cloneMaxBytes: number;
  /** Local sandboxes: most bytes a workspace (repository and its HOME) holds on disk while commands run (0: no limit). */
  sandboxMaxBytes: number;
  /** The programmer's finish is refused while its change (the diff) is larger than this (0: no limit). */
  diffMaxBytes: number;
  /** Local sandboxes: where commands run (`bubblewrap` a mount view, `namespaces`, each required when named; `auto`: the best available). */
  sandboxIsolation: 'auto' | 'bubblewrap' | 'namespaces' | 'none';
  /** Local sandboxes: the network commands reach (`internet`: not this machine's loopback; `auto`: internet where it works, else host). */
  sandboxNetwork: 'auto' | 'internet' | 'host' | 'none';
  /** Local sandboxes: the service's own data (DATA_DIR) and files (its checkout), which commands see as empty directories where they would see them at all. */
  hiddenPaths: string[];
  /** Local sandboxes with bubblewrap: more read-only paths in the view (SANDBOX_READ_PATHS). */
  sandboxReadPaths: string[];
  /** Local sandboxes: rlimits per command. */
  sandboxLimits: { memoryBytes: number; processes: number; cpuSeconds: number };
  daytona: { apiKey: string; serverUrl: string; image: string | undefined } | undefined;
  maxCalls: number;
  maxTokens: number;
  /**
   * A default profile from AI_PROVIDER, AI_MODEL, AI_API_KEY, AI_BASE_URL,
   * AI_API_VERSION, AI_DEPLOYMENT, stored at startup (until profiles have an API).
   */
  profile:
    | {
        provider: 'openai' | 'azure' | 'ollama' | 'openai-compatible' | 'gemini';
        model: string;
        apiKey?: string;
        baseUrl?: string;
        apiVersion?: string;
        deployment?: string;
      }
    | undefined;
}

/** Every variable the node reads, with its default, for the README table and errors. */
export const CONFIG_VARIABLES = {
  PORT: '8000',
  HOST: '127.0.0.1',
  ALLOWED_HOSTS: '(unset: localhost, 127.0.0.1, [::1] and HOST when it names one address)',
  REDIS_URL: '(unset: the embedded SQLite store in DATA_DIR, one node)',
  DATA_DIR:
    '$XDG_DATA_HOME/swe-agent, else ~/.local/share/swe-agent (/data in the image); :memory: keeps nothing',
  REDIS_PASSWORD: '(unset: the password in REDIS_URL, if any)',
  REDIS_PREFIX: 'swe',
  NODE_ID: '(generated)',
  NODE_CONCURRENCY: '100',
  LEASE_TTL_MS: '3000',
  LOG_LEVEL: 'info',
  SECRET_KEY: '(required with REDIS_URL; otherwise generated once and kept in DATA_DIR)',
  ADMIN_TOKEN: '(unset: generated at first start when HOST is not loopback, printed once)',
  USER_MAX_RUNNING_SESSIONS: '10',
  BUDGET_MAX_CALLS: '1000',
  BUDGET_MAX_TOKENS: '20000000',
  RATE_LIMIT_PER_MINUTE: '600',
  SESSION_RETENTION_DAYS: '30',
  SANDBOX_TYPE: 'local',
  SANDBOX_ISOLATION: 'auto',
  SANDBOX_NETWORK: 'auto',
  SANDBOX_READ_PATHS: '(none: the system directories only)',
  SANDBOX_MEMORY_MB: '4096',
  SANDBOX_MAX_PROCESSES: '1024',
  SANDBOX_CPU_SECONDS: '1800',
  WORKSPACE_DIR:
    '$XDG_STATE_HOME/swe-agent/workspaces, else ~/.local/state/swe-agent/workspaces (/workspaces in the image; without HOME, under the temporary directory)',
  CLONE_TIMEOUT_MS: '600000',
  CLONE_MAX_MB: '2048',
  SANDBOX_MAX_MB: '4096',
  DIFF_MAX_MB: '5',
  ALLOW_LOCAL_REPOS: 'false',
  DAYTONA_API_KEY: '(required with SANDBOX_TYPE=daytona)',
  DAYTONA_SERVER_URL: 'https://app.daytona.io/api',
  DAYTONA_API_URL: "(the same as DAYTONA_SERVER_URL: the SDK's name for it)",
  DAYTONA_TARGET_IMAGE: "(Daytona's default)",
  AGENT_MAX_CALLS: '200',
  AGENT_MAX_TOKENS: '2000000',
  AI_PROVIDER: '(unset: no default profile from the environment)',
  AI_MODEL: '(required with AI_PROVIDER)',
  AI_API_KEY: '(unset)',
  AI_BASE_URL: '(the provider default)',
  AI_API_VERSION: '(Azure only)',
  AI_DEPLOYMENT: '(Azure only)',
  ENV_FILE: '.env (read when present)',
} as const;

export type ConfigVariable = keyof typeof CONFIG_VARIABLES;

const DEFAULT_DAYTONA_URL = 'https://app.daytona.io/api';
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** The service's own directory (its code, its `.env`, its node_modules): never in a sandbox's view. */
export const SERVICE_DIR = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');

/**
 * WORKSPACE_DIR, else the XDG state home's `swe-agent/workspaces`, else
 * `~/.local/state/swe-agent/workspaces`: outside the service's checkout (a
 * repository there would inherit its package.json and node_modules) and
 * beside, not inside, DATA_DIR (which commands must not see).
 */
function workspaceDirOf(env: Record<string, string | undefined>): string {
  const set = nonEmpty(env['WORKSPACE_DIR']);
  if (set !== undefined) {
    if (set.includes('\0'))
      throw new ConfigError('WORKSPACE_DIR', 'has a NUL character', 'Use a directory path.');
    return resolve(set);
  }
  const xdg = nonEmpty(env['XDG_STATE_HOME']);
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, 'swe-agent', 'workspaces');
  const home = nonEmpty(env['HOME']);
  if (home !== undefined && isAbsolute(home))
    return join(home, '.local', 'state', 'swe-agent', 'workspaces');
  // No home (a bare service account): the temporary directory, one per user. Work in progress
  // survives restarts there, not reboots: a session then re-clones and applies its checkpoint.
  return join(tmpdir(), `swe-agent-${process.getuid?.() ?? 'user'}`, 'workspaces');
}

/**
 * DATA_DIR, else the XDG data home's `swe-agent`, else `~/.local/share/swe-agent`:
 * outside the checkout, so a `git clean` or a fresh clone loses nothing.
 */
function dataDirOf(env: Record<string, string | undefined>): string | undefined {
  const set = nonEmpty(env['DATA_DIR']);
  if (set === ':memory:') return set;
  if (set !== undefined) {
    if (set.includes('\0')) {
      throw new ConfigError('DATA_DIR', 'has a NUL character', 'Use a directory path.');
    }
    return resolve(set);
  }
  const xdg = nonEmpty(env['XDG_DATA_HOME']);
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, 'swe-agent');
  const home = nonEmpty(env['HOME']);
  return home !== undefined && isAbsolute(home)
    ? join(home, '.local', 'share', 'swe-agent')
    : undefined;
}

/** ALLOWED_HOSTS (comma-separated names, no ports), and HOST when it names one address rather than every interface. */
function allowedHostsOf(env: Record<string, string | undefined>, host: string): string[] {
  const names = (nonEmpty(env['ALLOWED_HOSTS']) ?? '')
    .split(',')
    .map((n) => n.trim().toLowerCase())
    .filter(Boolean);
  for (const n of names) {
    if (n !== '*' && !/^(?:[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])$/.test(n)) {
      throw new ConfigError(
        'ALLOWED_HOSTS',
        `"${n}" is not a host name or address`,
        'List the names clients use to reach this node, comma-separated, without scheme or port (e.g. swe.example.com,10.0.0.5,[fd00::5]), or * to answer to any.',
      );
    }
  }
  const h = host.toLowerCase();
  const wildcard = h === '0.0.0.0' || h === '::' || h === '[::]';
  if (!wildcard) names.push(h.includes(':') && !h.startsWith('[') ? `[${h}]` : h);
  return names;
}

/**
 * REDIS_PASSWORD, for deployments that hand the password over apart from the
 * URL (a compose file, a Kubernetes secret): put into REDIS_URL, where the
 * client, the subscriber and log redaction already take it from.
 */
function withRedisPassword(
  url: string | undefined,
  password: string | undefined,
): string | undefined {
  if (password === undefined) return url;
  if (url === undefined) {
    throw new ConfigError(
      'REDIS_PASSWORD',
      'is set, but REDIS_URL is not',
      'Set REDIS_URL to the Redis it is the password of, or unset REDIS_PASSWORD for the embedded store.',
    );
  }
  const u = new URL(url);
  if (u.password !== '' && decodeURIComponent(u.password) !== password) {
    throw new ConfigError(
      'REDIS_PASSWORD',
      'differs from the password in REDIS_URL',
      'Give the password once: in REDIS_URL (redis://:password@host:port) or in REDIS_PASSWORD.',
    );
  }
  u.password = encodeURIComponent(password);
  return u.toString();
}

/** Whether one path is the other or inside it. */
/** The values of the variables that hold secrets, and the password in REDIS_URL. */
function secretValuesOf(
  env: Record<string, string | undefined>,
  redisUrl: string | undefined,
): string[] {
  const values = ['SECRET_KEY', 'ADMIN_TOKEN', 'REDIS_PASSWORD', 'AI_API_KEY', 'DAYTONA_API_KEY']
    .map((name) => nonEmpty(env[name]))
    .filter((v): v is string => v !== undefined);
  try {
    const password = redisUrl ? decodeURIComponent(new URL(redisUrl).password) : '';
    if (password) values.push(password);
  } catch {
    // not a URL: refused above
  }
  return [...new Set(values)];
}

function overlaps(a: string, b: string): boolean {
  const inside = (x: string, y: string) => x === y || x.startsWith(y.endsWith('/') ? y : `${y}/`);
  return inside(a, b) || inside(b, a);
}

/** Parses and checks the environment; throws a ConfigError naming the variable and the fix. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  let redisUrl = nonEmpty(env['REDIS_URL']);
  if (redisUrl !== undefined && !isRedisUrl(redisUrl)) {
    throw new ConfigError(
      'REDIS_URL',
      `"${redactUrl(redisUrl)}" is not a Redis URL`,
      'Use redis://host:port/db (or rediss:// for TLS; a password as redis://:password@host:port), or unset it for the embedded store.',
    );
  }
  redisUrl = withRedisPassword(redisUrl, nonEmpty(env['REDIS_PASSWORD']));
  const host = nonEmpty(env['HOST']) ?? '127.0.0.1';
  if (
    !/^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[?[0-9A-Fa-f.]*:[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*\]?)$/.test(
      host,
    )
  ) {
    throw new ConfigError(
      'HOST',
      `"${host}" is not a host name or IP address`,
      'Use an address to listen on, e.g. 127.0.0.1 (this machine only) or 0.0.0.0 (every interface), without a scheme or port (the port is PORT).',
    );
  }
  const logLevel = (nonEmpty(env['LOG_LEVEL']) ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(
      'LOG_LEVEL',
      `"${logLevel}" is not a level`,
      `Use one of ${LOG_LEVELS.join(', ')}.`,
    );
  }
  const prefix = nonEmpty(env['REDIS_PREFIX']) ?? 'swe';
  if (!/^[\w.-]{1,64}$/.test(prefix)) {
    throw new ConfigError(
      'REDIS_PREFIX',
      `"${prefix}" is not a valid key prefix`,
      'Use 1-64 letters, digits, "_", "-" or ".".',
    );
  }
  const nodeId = nonEmpty(env['NODE_ID']);
  if (nodeId !== undefined && !/^[\w.-]{1,64}$/.test(nodeId)) {
    throw new ConfigError(
      'NODE_ID',
      `"${nodeId}" is not a valid node id`,
      'Use 1-64 letters, digits, "_", "-" or ".".',
    );
  }
  const secretKey = nonEmpty(env['SECRET_KEY']);
  if (redisUrl !== undefined && secretKey === undefined) {
    throw new ConfigError(
      'SECRET_KEY',
      'is not set, and REDIS_URL needs it (provider keys are stored encrypted with it, and every node must use the same one)',
      'Set SECRET_KEY to a long random string, e.g. `openssl rand -base64 32`, the same on every node.',
    );
  }
  if (secretKey !== undefined && secretKey.length < 16) {
    throw new ConfigError(
      'SECRET_KEY',
      'is shorter than 16 characters',
      'Use a long random string, e.g. `openssl rand -base64 32`.',
    );
  }
  const adminToken = nonEmpty(env['ADMIN_TOKEN']);
  if (adminToken !== undefined && (adminToken.length < 16 || !/^[\x21-\x7e]+$/.test(adminToken))) {
    throw new ConfigError(
      'ADMIN_TOKEN',
      'is shorter than 16 characters or has spaces or non-ASCII characters',
      'Use a long random string, e.g. `openssl rand -hex 32`, or unset it to have one generated at first start.',
    );
  }
  const agent = loadAgentConfig(env);
  const dataDir = redisUrl === undefined ? dataDirOf(env) : undefined;
  if (dataDir !== undefined && dataDir !== ':memory:' && overlaps(dataDir, agent.workspaceDir)) {
    throw new ConfigError(
      'DATA_DIR',
      `${dataDir} and WORKSPACE_DIR ${agent.workspaceDir} are one inside the other, so a session's files and the store would share a folder`,
      'Give DATA_DIR and WORKSPACE_DIR two separate directories (the defaults are)',
    );
  }
  if (agent.sandboxType === 'local' && overlaps(SERVICE_DIR, agent.workspaceDir)) {
    throw new ConfigError(
      'WORKSPACE_DIR',
      `${agent.workspaceDir} and the service's directory ${SERVICE_DIR} are one inside the other: a repository there would inherit the service's package.json, node_modules and .env`,
      'Set WORKSPACE_DIR to a directory outside the service (or unset it for ~/.local/state/swe-agent/workspaces).',
    );
  }
  if (dataDir !== undefined && dataDir !== ':memory:') agent.hiddenPaths.push(dataDir);
  return {
    secretValues: secretValuesOf(env, redisUrl),
    port: int(env, 'PORT', 8000, 0, 65535),
    host,
    redisUrl,
    dataDir,
    redisPrefix: prefix,
    nodeId,
    concurrency: int(env, 'NODE_CONCURRENCY', 100, 1, 100_000),
    leaseTtlMs: int(env, 'LEASE_TTL_MS', 3000, 300, 600_000),
    logLevel: logLevel as LogLevel,
    secretKey,
    adminToken,
    userMaxRunning: int(env, 'USER_MAX_RUNNING_SESSIONS', 10, 0, 100_000),
    budgetCaps: {
      maxCalls: int(env, 'BUDGET_MAX_CALLS', 1000, 1, 1_000_000),
      maxTokens: int(env, 'BUDGET_MAX_TOKENS', 20_000_000, 1, 1_000_000_000),
    },
    rateLimitPerMinute: int(env, 'RATE_LIMIT_PER_MINUTE', 600, 0, 10_000_000),
    allowedHosts: allowedHostsOf(env, host),
    sessionRetentionDays: retentionDays(env),
    agent,
  };
}

function loadAgentConfig(env: Record<string, string | undefined>): AgentConfig {
  const sandboxType = nonEmpty(env['SANDBOX_TYPE']) ?? 'local';
  if (sandboxType !== 'local' && sandboxType !== 'daytona') {
    throw new ConfigError(
      'SANDBOX_TYPE',
      `"${sandboxType}" is not a sandbox type`,
      'Use local or daytona.',
    );
  }
  const isolation = (nonEmpty(env['SANDBOX_ISOLATION']) ?? 'auto').toLowerCase();
  if (
    isolation !== 'auto' &&
    isolation !== 'bubblewrap' &&
    isolation !== 'namespaces' &&
    isolation !== 'none'
  ) {
    throw new ConfigError(
      'SANDBOX_ISOLATION',
      `"${isolation}" is not an isolation mode`,
      'Use auto (bubblewrap, else namespaces, where this machine runs them), bubblewrap or namespaces (required: the node does not start without it) or none.',
    );
  }
  const network = (nonEmpty(env['SANDBOX_NETWORK']) ?? 'auto').toLowerCase();
  if (network !== 'auto' && network !== 'internet' && network !== 'host' && network !== 'none') {
    throw new ConfigError(
      'SANDBOX_NETWORK',
      `"${network}" is not a network mode`,
      "Use auto (internet where this machine runs it, else host), internet (the internet but not this machine's loopback; needs bubblewrap and slirp4netns), none (no network at all) or host (this machine's network, its loopback included).",
    );
  }
  const readPaths = (nonEmpty(env['SANDBOX_READ_PATHS']) ?? '')
    .split(':')
    .map((p) => p.trim())
    .filter(Boolean);
  for (const p of readPaths) {
    if (!isAbsolute(p) || p.includes('\0') || p === '/')
      throw new ConfigError(
        'SANDBOX_READ_PATHS',
        `"${p}" is not an absolute path below /`,
        'List absolute directories separated by ":", e.g. /home/me/.cargo:/home/me/.rustup.',
      );
  }
  const allow = (nonEmpty(env['ALLOW_LOCAL_REPOS']) ?? 'false').toLowerCase();
  if (!['true', 'false', '1', '0'].includes(allow)) {
    throw new ConfigError(
      'ALLOW_LOCAL_REPOS',
      `"${allow}" is not true or false`,
      'Use true or false.',
    );
  }
  let daytona: AgentConfig['daytona'];
  if (sandboxType === 'daytona') {
    const apiKey = nonEmpty(env['DAYTONA_API_KEY']);
    if (!apiKey)
      throw new ConfigError(
        'DAYTONA_API_KEY',
        'is not set, and SANDBOX_TYPE=daytona needs it',
        'Set it to your Daytona API key, or use SANDBOX_TYPE=local.',
      );
    // DAYTONA_API_URL is the SDK's own name for it (what Daytona's docs tell
    // people to set); DAYTONA_SERVER_URL is the guide's. Either works; two
    // that disagree are refused rather than one silently winning.
    const guideUrl = nonEmpty(env['DAYTONA_SERVER_URL']);
    const sdkUrl = nonEmpty(env['DAYTONA_API_URL']);
    if (guideUrl !== undefined && sdkUrl !== undefined && guideUrl !== sdkUrl)
      throw new ConfigError(
        'DAYTONA_API_URL',
        `"${sdkUrl}" differs from DAYTONA_SERVER_URL "${guideUrl}"`,
        'They name the same Daytona API URL: set one of them.',
      );
    const urlVariable =
      guideUrl === undefined && sdkUrl !== undefined ? 'DAYTONA_API_URL' : 'DAYTONA_SERVER_URL';
    const serverUrl = guideUrl ?? sdkUrl ?? DEFAULT_DAYTONA_URL;
    if (!isHttpUrl(serverUrl)) {
      throw new ConfigError(
        urlVariable,
        `"${serverUrl}" is not an http(s) URL`,
        `Set it to the Daytona API URL, e.g. ${DEFAULT_DAYTONA_URL}, or unset it for that default.`,
      );
    }
    daytona = { apiKey, serverUrl, image: nonEmpty(env['DAYTONA_TARGET_IMAGE']) };
  }
  const workspace = workspaceDirOf(env);
  const cloneMaxMb = int(env, 'CLONE_MAX_MB', 2048, 0, 10_000_000);
  const sandboxMaxMb = int(env, 'SANDBOX_MAX_MB', 4096, 0, 10_000_000);
  if (sandboxMaxMb > 0 && cloneMaxMb > sandboxMaxMb) {
    // The clone counts toward the workspace: a repository of the size allowed would leave no room to work.
    throw new ConfigError(
      'SANDBOX_MAX_MB',
      `${sandboxMaxMb} is less than CLONE_MAX_MB (${cloneMaxMb}), and the clone counts toward it`,
      `Raise SANDBOX_MAX_MB above CLONE_MAX_MB (with room for builds), lower CLONE_MAX_MB, or set SANDBOX_MAX_MB=0 for no limit.`,
    );
  }
  return {
    sandboxType,
    workspaceDir: workspace,
    allowLocalRepos: allow === 'true' || allow === '1',
    // The service's own files: its checkout, and its settings file wherever it is (ENV_FILE, ./.env).
    hiddenPaths: [...new Set([SERVICE_DIR, resolve(nonEmpty(env['ENV_FILE']) ?? '.env')])],
    sandboxReadPaths: readPaths,
    sandboxLimits: {
      memoryBytes: int(env, 'SANDBOX_MEMORY_MB', 4096, 0, 10_000_000) * 1024 * 1024,
      processes: int(env, 'SANDBOX_MAX_PROCESSES', 1024, 0, 10_000_000),
      cpuSeconds: int(env, 'SANDBOX_CPU_SECONDS', 1800, 0, 100_000_000),
    },
    cloneTimeoutMs: int(env, 'CLONE_TIMEOUT_MS', 600_000, 1000, 86_400_000),
    cloneMaxBytes: cloneMaxMb * 1024 * 1024,
    sandboxMaxBytes: sandboxMaxMb * 1024 * 1024,
    // At most 256: the local sandbox's diff refuses larger changes anyway, and the change is stored in one value.
    diffMaxBytes: int(env, 'DIFF_MAX_MB', 5, 0, 256) * 1024 * 1024,
    sandboxIsolation: isolation,
    sandboxNetwork: network,
    daytona,
    maxCalls: int(env, 'AGENT_MAX_CALLS', 200, 1, 1_000_000),
    maxTokens: int(env, 'AGENT_MAX_TOKENS', 2_000_000, 1000, 1_000_000_000),
    profile: loadProfile(env),
  };
}

const PROVIDERS = ['openai', 'azure', 'ollama', 'openai-compatible', 'gemini'] as const;

function loadProfile(env: Record<string, string | undefined>): AgentConfig['profile'] {
  const provider = nonEmpty(env['AI_PROVIDER']);
  if (provider === undefined) {
    // AI_MODEL without AI_PROVIDER would otherwise be ignored without a word.
    const orphan = (
      ['AI_MODEL', 'AI_API_KEY', 'AI_BASE_URL', 'AI_API_VERSION', 'AI_DEPLOYMENT'] as const
    ).find((v) => nonEmpty(env[v]) !== undefined);
    if (orphan)
      throw new ConfigError(
        'AI_PROVIDER',
        `is not set, but ${orphan} is`,
        `Set AI_PROVIDER to one of ${PROVIDERS.join(', ')}, or unset ${orphan}.`,
      );
    return undefined;
  }
  if (!(PROVIDERS as readonly string[]).includes(provider)) {
    throw new ConfigError(
      'AI_PROVIDER',
      `"${provider}" is not a provider`,
      `Use one of ${PROVIDERS.join(', ')}.`,
    );
  }
  const model = nonEmpty(env['AI_MODEL']);
  if (!model)
    throw new ConfigError(
      'AI_MODEL',
      'is not set, and AI_PROVIDER needs it',
      'Set it to the model name, e.g. gpt-4o-mini.',
    );
  const p = provider as (typeof PROVIDERS)[number];
  const apiKey = nonEmpty(env['AI_API_KEY']);
  const baseUrl = nonEmpty(env['AI_BASE_URL']);
  const apiVersion = nonEmpty(env['AI_API_VERSION']);
  const deployment = nonEmpty(env['AI_DEPLOYMENT']);
  if (baseUrl !== undefined && !isHttpUrl(baseUrl)) {
    throw new ConfigError(
      'AI_BASE_URL',
      `"${redactUrl(baseUrl)}" is not an http(s) URL`,
      "Set it to the provider's base URL, e.g. http://127.0.0.1:11434/v1, or unset it for the provider default.",
    );
  }
  if (p !== 'ollama' && !apiKey)
    throw new ConfigError(
      'AI_API_KEY',
      `is not set, and AI_PROVIDER=${p} needs it`,
      'Set it to the provider API key.',
    );
  if (p === 'azure' && (!baseUrl || !apiVersion || !deployment)) {
    const missing = !baseUrl ? 'AI_BASE_URL' : !apiVersion ? 'AI_API_VERSION' : 'AI_DEPLOYMENT';
    throw new ConfigError(
      missing,
      'is not set, and AI_PROVIDER=azure needs it',
      'Azure needs the endpoint (AI_BASE_URL), AI_API_VERSION and AI_DEPLOYMENT.',
    );
  }
  if (p === 'openai-compatible' && !baseUrl)
    throw new ConfigError(
      'AI_BASE_URL',
      'is not set, and AI_PROVIDER=openai-compatible needs it',
      "Set it to the server's base URL, e.g. http://host:port/v1.",
    );
  return {
    provider: p,
    model,
    ...(apiKey ? { apiKey } : {}),
    ...(baseUrl ? { baseUrl } : {}),
    ...(apiVersion ? { apiVersion } : {}),
    ...(deployment ? { deployment } : {}),
  };
}

/** Up to 100 years: more is for ever, which is 0. */
const MAX_RETENTION_DAYS = 36_500;

function retentionDays(env: Record<string, string | undefined>): number {
  const raw = nonEmpty(env['SESSION_RETENTION_DAYS']);
  if (raw === undefined) return 30;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > MAX_RETENTION_DAYS) {
    throw new ConfigError(
      'SESSION_RETENTION_DAYS',
      `"${raw}" is not a whole number of days from 0 to ${MAX_RETENTION_DAYS}`,
      'Set it to how many days ended sessions are kept after their last update (e.g. 30), 0 to keep them for ever, or unset it for the default 30.',
    );
  }
  return n;
}

function isRedisUrl(raw: string): boolean {
  if (!/^rediss?:\/\/\S+$/.test(raw)) return false;
  try {
    const u = new URL(raw);
    // A database, when given, is a number: redis://host:6379/0.
    return u.hostname !== '' && /^(\/\d*)?$/.test(u.pathname);
  } catch {
    return false;
  }
}

function isHttpUrl(raw: string): boolean {
  if (!/^https?:\/\/\S+$/.test(raw)) return false;
  try {
    return new URL(raw).hostname !== '';
  } catch {
    return false;
  }
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function int(
  env: Record<string, string | undefined>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(
      name,
      `"${raw}" is not an integer from ${min} to ${max}`,
      `Set ${name} to a whole number in that range, or unset it for the default ${fallback}.`,
    );
  }
  return n;
}
