import { mkdirSync } from 'node:fs';
import { ulid } from 'ulid';
import type { Hono } from 'hono';
import { createApp } from '../api/app.ts';
import type { AppEnv } from '../api/principal.ts';
import type { BodyReader } from '../api/body.ts';
import type { Config } from './config.ts';
import { redactUrl } from '../kernel/redact.ts';
import { createLogger, type Logger } from '../kernel/logger.ts';
import { RuntimeNode } from '../runtime/node.ts';
import { RetentionSweeper } from '../runtime/retention.ts';
import type { Store } from '../runtime/store/port.ts';
import type { StoredProfile } from '../runtime/store/records.ts';
import { sealedProfiles, type Profiles } from '../runtime/profiles.ts';
import { createSecretBox } from '../kernel/secret-box.ts';
import { openEmbeddedStore } from './embedded-store.ts';
import { clientAddress } from './client-address.ts';
import type { WorkImplementations } from '../actors/work-contract.ts';
import { VERSION } from '../kernel/version.ts';
import { bootstrapAdmin } from './bootstrap.ts';
import { sessionSettings, settingsDrift } from './session-settings.ts';
import { isLoopbackHost } from '../api/auth.ts';
import { ConfigError } from '../kernel/errors.ts';
import { createServiceMetrics, type ServiceMetrics } from '../kernel/service-metrics.ts';

export { VERSION };

export interface Service {
  app: Hono<AppEnv>;
  node: RuntimeNode;
  store: Store;
  logger: Logger;
  /** What `GET /metrics` shows. */
  metrics: ServiceMetrics;
  /** Graceful stop: hand sessions back, then close the store. */
  stop(): Promise<void>;
}

/**
 * Wires one node: store (Redis or embedded), runtime and HTTP app. Runtime
 * specific serving (Node, Deno) stays in the entry points.
 */
/** The work a node runs: fixed, or made once the store is open (the agent reads profiles from it). */
export type WorkSource =
  | WorkImplementations
  | ((ctx: {
      store: Store;
      config: Config;
      profiles: Profiles;
      /** The service's own secrets, the kept SECRET_KEY included: what the agent cuts out of sandbox output. */
      secrets: string[];
    }) => WorkImplementations);

export async function startService(
  config: Config,
  workSource: WorkSource,
  opts: {
    address?: string;
    logger?: Logger;
    readBody?: BodyReader;
    requireProfile?: boolean;
    announce?: (line: string) => void;
  } = {},
): Promise<Service> {
  const nodeId = config.nodeId ?? `node-${ulid().slice(-10).toLowerCase()}`;
  const logger =
    opts.logger ??
    createLogger({
      level: config.logLevel,
      base: { node: nodeId },
      secrets: configuredSecrets(config),
    });
  const metrics = createServiceMetrics();
  if (config.agent.sandboxType === 'local') {
    // Before anything is opened: an isolation or network that is required and unavailable is a ConfigError.
    const { chooseIsolation, describeIsolation } = await import('../sandbox/isolation.ts');
    // The data directory exists before the probe, so the probe hides it as commands will.
    if (config.dataDir !== undefined && config.dataDir !== ':memory:')
      mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    const choice = await chooseIsolation(
      config.agent.sandboxIsolation,
      config.agent.sandboxNetwork,
      {},
      config.agent.hiddenPaths,
    );
    refuseUnisolatedBeyondLoopback(config, choice.isolation, choice.reason);
    const said = describeIsolation(choice);
    logger[said.warn ? 'warn' : 'info'](said.message);
  }
  let store: Store;
  let secretKey: string;
  if (config.redisUrl) {
    const { RedisStore } = await import('../runtime/store/redis/redis-store.ts');
    store = await RedisStore.create({ url: config.redisUrl, prefix: config.redisPrefix });
    logger.info('store: redis', { url: redactUrl(config.redisUrl), prefix: config.redisPrefix });
    // loadConfig refuses REDIS_URL without SECRET_KEY.
    secretKey = config.secretKey ?? '';
  } else {
    ({ store, secretKey } = await openEmbeddedStore(config, logger));
  }
  const profiles = sealedProfiles(store, await createSecretBox(secretKey));
  if (config.agent.profile) {
    // The environment's profile becomes the default; the key is stored sealed, never logged.
    await profiles.put({
      id: 'env',
      name: 'from the environment (AI_*)',
      isDefault: true,
      ...config.agent.profile,
    });
    logger.info('default AI profile from the environment', {
      provider: config.agent.profile.provider,
      model: config.agent.profile.model,
    });
  }
  // Loopback only: unauthenticated local requests are the admin. Beyond it: every request needs a token.
  const localAdmin = isLoopbackHost(config.host);
  await bootstrapAdmin(store, {
    adminToken: config.adminToken,
    needsToken: !localAdmin,
    logger,
    ...(opts.announce ? { announce: opts.announce } : {}),
  });
  if (!localAdmin)
    logger.info(
      'listening beyond loopback: every /agent request needs Authorization: Bearer <token>',
      { host: config.host },
    );
  const work =
    typeof workSource === 'function'
      ? workSource({
          store,
          config,
          profiles,
          secrets: [...configuredSecrets(config), secretKey].filter(
            (s): s is string => typeof s === 'string' && s !== '',
          ),
        })
      : workSource;
  const settings = sessionSettings(config);
  for (const line of settingsDrift(nodeId, settings, await store.listNodes())) logger.warn(line);
  const node = await RuntimeNode.start({
    store,
    settings,
    nodeId,
    work,
    logger,
    concurrency: config.concurrency,
    leaseTtlMs: config.leaseTtlMs,
    address: opts.address ?? `${config.host}:${config.port}`,
    version: VERSION,
    metrics,
  });
  // Every node sweeps (removal is idempotent per session), so retention needs no node of its own.
  const retention =
    config.sessionRetentionDays > 0
      ? new RetentionSweeper({
          store,
          days: config.sessionRetentionDays,
          logger,
          onRemoved: () => metrics.sessionsRemoved.retention.inc(),
        })
      : undefined;
  retention?.start();
  logger.info(
    retention
      ? `retention: ended sessions are removed ${config.sessionRetentionDays} days after their last update (SESSION_RETENTION_DAYS)`
      : 'retention: ended sessions are kept for ever (SESSION_RETENTION_DAYS=0)',
  );
  // Loaded on first use: the provider SDKs are not needed to serve anything else.
  const checkProfile = async (p: StoredProfile) =>
    (await import('../agent/llm/chat-model.ts')).checkProfile(p);
  const app = createApp({
    store,
    logger,
    profiles,
    checkProfile,
    requireProfile: opts.requireProfile ?? false,
    allowLocalRepos: config.agent.allowLocalRepos,
    localAdmin,
    allowedHosts: config.allowedHosts,
    clientAddress,
    rateLimitPerMinute: config.rateLimitPerMinute,
    userMaxRunning: config.userMaxRunning,
    budgetCaps: config.budgetCaps,
    retentionDays: config.sessionRetentionDays,
    metrics,
    ...(opts.readBody ? { readBody: opts.readBody } : {}),
  });
  return {
    app,
    node,
    store,
    logger,
    metrics,
    async stop() {
      await retention?.close();
      await node.shutdown();
      await store.close();
    },
  };
}

/** Values the log must never show, wherever they appear in a line. */
function configuredSecrets(config: Config): (string | undefined)[] {
  return [...config.secretValues, config.agent.profile?.apiKey, config.agent.daytona?.apiKey];
}

/**
 * A node that others can reach (HOST beyond loopback) runs other people's
 * sessions: with SANDBOX_ISOLATION=auto finding no working isolation, their
 * commands would run as the service, beside its secrets. It does not start
 * unless the operator chose that (SANDBOX_ISOLATION=none).
 */
function refuseUnisolatedBeyondLoopback(config: Config, isolation: string, reason: string): void {
  if (isolation !== 'none' || config.agent.sandboxIsolation === 'none') return;
  if (isLoopbackHost(config.host)) return;
  throw new ConfigError(
    'SANDBOX_ISOLATION',
    `is auto, HOST=${config.host} lets other machines in, and commands cannot be isolated here (${reason}): they would run as the service, able to read its environment, its files and every session's workspace`,
    'Install bubblewrap and allow unprivileged user namespaces (in Docker: the seccomp profile in deploy/ and apparmor=unconfined, see the README), use SANDBOX_TYPE=daytona, or set SANDBOX_ISOLATION=none to accept that exposure on purpose.',
  );
}
