/**
 * The Daytona adapter: one remote Daytona sandbox per session, driven through
 * the official SDK. The repository is cloned into `<workDir>/repo`; the base
 * commit is pinned as the ref `refs/swe-agent/base` inside that clone, so a
 * node that takes a session over recovers it from the sandbox itself (and the
 * ref keeps the base reachable whatever the agent does to its branches).
 *
 * Paths are confined as in the local adapter (`sandbox/paths.ts`): first
 * textually here (`normalizeToolPath`), then inside the sandbox, where the
 * files live: one script per file operation walks the path component by
 * component, follows every existing symlink and answers the resolved path, or
 * refuses one that leaves the repository, reaches into `.git` or dangles. The
 * operation then uses the resolved path. (The check and the operation are two
 * calls, so a command running concurrently in the sandbox could swap a
 * component in between; the agent's tools run one at a time.)
 */
import type { Daytona, Sandbox as DaytonaSandbox } from '@daytonaio/sdk';
import { AppError, isAppError } from '../kernel/errors.ts';
import { DEFAULT_COMMAND_TIMEOUT_MS, DEFAULT_OUTPUT_CAP_BYTES } from './exec.ts';
import type { Sandbox, SandboxProvider, SandboxSpec } from './port.ts';
import { checkRepoUrl } from './repo-url.ts';
import { cutSecret } from '../kernel/redact.ts';
import { BASE_REF, GIT, SERVICE_CALL_TIMEOUT_S, q } from './daytona-shell.ts';
import { DaytonaRepo } from './daytona-repo.ts';

export interface DaytonaProviderOptions {
  apiKey: string;
  serverUrl: string;
  target?: string;
  /** Base image for new sandboxes; Daytona's default snapshot when absent. */
  image?: string;
  allowLocalRepos?: boolean;
  outputCapBytes?: number;
  defaultTimeoutMs?: number;
}

export const SESSION_LABEL = 'swe-agent/session';

export function createDaytonaSandboxProvider(opts: DaytonaProviderOptions): SandboxProvider {
  const redact = (s: string) => cutSecret(s, opts.apiKey);
  const fail = (what: string, err: unknown): AppError => {
    if (isAppError(err)) return err;
    const status = (err as { statusCode?: number }).statusCode;
    const raw = redact(err instanceof Error ? err.message : String(err));
    const hint = status === 401 || status === 403 ? ' (check DAYTONA_API_KEY)' : '';
    // No `cause`: SDK errors carry request details, and the key must not travel with the error.
    return new AppError(
      'sandbox_failed',
      502,
      `Daytona: ${what} failed${status ? ` (HTTP ${status})` : ''}: ${raw}${hint}`,
    );
  };
  const guard = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw fail(what, err);
    }
  };

  let client: Promise<Daytona> | undefined;
  const daytona = (): Promise<Daytona> => {
    // Built lazily so a bad key or URL surfaces as a sandbox error, not at
    // startup; and the SDK (~100 MB installed, ~0.1 s to load) is imported on
    // the first sandbox call, so a node that never uses Daytona never loads it.
    client ??= import('@daytonaio/sdk').then(
      ({ Daytona }) =>
        guard0(
          () =>
            new Daytona({
              apiKey: opts.apiKey,
              apiUrl: opts.serverUrl,
              ...(opts.target ? { target: opts.target } : {}),
              // Polling instead of the SDK's websocket event stream: one less long-lived connection per node.
              useDeprecatedPolling: true,
              otelEnabled: false,
            }),
        ),
      (err: unknown) => {
        throw fail('loading the SDK', err);
      },
    );
    client.catch(() => {
      client = undefined; // a failed start is tried again on the next call
    });
    return client;
  };
  const guard0 = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (err) {
      throw fail('configuring the client', err);
    }
  };

  const findBySession = (sessionId: string) =>
    guard('listing sandboxes', async () => {
      for await (const sb of (await daytona()).list({ labels: { [SESSION_LABEL]: sessionId } }))
        return sb;
      return null;
    });

  const getById = (id: string) =>
    guard('getting the sandbox', async () => {
      try {
        return await (await daytona()).get(id);
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return null;
        throw err;
      }
    });

  const ensureStarted = (sb: DaytonaSandbox) =>
    guard('starting the sandbox', async () => {
      // Daytona stops idle sandboxes; a taken-over session must wake its own up.
      if (sb.state !== 'started') await sb.start(120);
    });

  const open = async (sb: DaytonaSandbox, baseCommit: string, repoDir: string): Promise<Sandbox> =>
    new DaytonaRepo(sb, baseCommit, repoDir, {
      fail,
      outputCapBytes: opts.outputCapBytes ?? DEFAULT_OUTPUT_CAP_BYTES,
      defaultTimeoutMs: opts.defaultTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    });

  const repoDirOf = (sb: DaytonaSandbox) =>
    guard(
      'reading the work dir',
      async () => `${(await sb.getWorkDir())!.replace(/\/+$/, '')}/repo`,
    );

  return {
    kind: 'daytona',

    async create(spec: SandboxSpec): Promise<Sandbox> {
      const url = checkRepoUrl(spec.repoUrl, { allowLocalRepos: opts.allowLocalRepos ?? false });
      let sb = await findBySession(spec.sessionId);
      if (sb) {
        await ensureStarted(sb);
      } else {
        const labels = { [SESSION_LABEL]: spec.sessionId };
        const image = opts.image;
        const client = await daytona();
        sb = await guard('creating the sandbox', () =>
          image
            ? client.create({ image, labels }, { timeout: 300 })
            : client.create({ labels }, { timeout: 300 }),
        );
      }
      const repoDir = await repoDirOf(sb);
      const probe = new DaytonaRepo(sb, '', repoDir, {
        fail,
        outputCapBytes: Infinity,
        defaultTimeoutMs: 0,
      });
      // Reuse means reset: whatever a previous attempt left behind is thrown away before cloning again.
      await probe.script(`rm -rf ${q(repoDir)}`, 'clearing the old clone');
      const isCommit = spec.ref !== undefined && /^[0-9a-f]{7,40}$/i.test(spec.ref);
      await guard('cloning the repository', () =>
        sb.git.clone(
          url,
          repoDir,
          isCommit ? undefined : spec.ref,
          isCommit ? spec.ref : undefined,
        ),
      );
      const out = await probe.script(
        `cd ${q(repoDir)} && ${GIT} update-ref ${BASE_REF} HEAD && ${GIT} rev-parse ${BASE_REF}`,
        'recording the base commit',
      );
      return open(sb, out.trim(), repoDir);
    },

    async attach(sessionId: string, id: string): Promise<Sandbox | null> {
      let sb = await getById(id);
      // An id that now names another session's sandbox is as good as gone.
      if (sb && sb.labels?.[SESSION_LABEL] !== sessionId) sb = null;
      sb ??= await findBySession(sessionId);
      if (!sb) return null;
      await ensureStarted(sb);
      const repoDir = await repoDirOf(sb);
      const probe = new DaytonaRepo(sb, '', repoDir, {
        fail,
        outputCapBytes: Infinity,
        defaultTimeoutMs: 0,
      });
      const r = await probe.exec(
        `cd ${q(repoDir)} && ${GIT} rev-parse --verify --quiet '${BASE_REF}^{commit}'`,
        SERVICE_CALL_TIMEOUT_S,
        'reading the base commit',
      );
      // No clone or no base: the sandbox cannot continue the session.
      if (r.exitCode !== 0) return null;
      return open(sb, r.output.trim(), repoDir);
    },

    async destroy(sessionId: string, id?: string): Promise<void> {
      const found = new Map<string, DaytonaSandbox>();
      if (id !== undefined) {
        const sb = await getById(id);
        if (sb && sb.labels?.[SESSION_LABEL] === sessionId) found.set(sb.id, sb);
      }
      const byLabel = await findBySession(sessionId);
      if (byLabel) found.set(byLabel.id, byLabel);
      for (const sb of found.values()) {
        await guard('deleting the sandbox', async () => {
          try {
            await (await daytona()).delete(sb);
          } catch (err) {
            if ((err as { statusCode?: number }).statusCode !== 404) throw err;
          }
        });
      }
    },
  };
}
