import { AppError, badRequest } from '../kernel/errors.ts';
import { isInternalHost } from '../kernel/hosts.ts';
import { redactUrl } from '../kernel/redact.ts';
import { runGit } from './exec.ts';
import { directoryBytes, formatBytes, holdsFileOf } from './disk-usage.ts';
import { OutputFeed } from './progress.ts';
import {
  type LocalSandboxOptions,
  DEFAULT_CLONE_TIMEOUT_MS,
  CLONE_SIZE_POLL_MS,
} from './local-options.ts';

export function checkRef(ref: string): void {
  // A ref that looks like an option, or holds bytes git's ref syntax forbids, never reaches git.
  if (
    ref === '' ||
    ref.startsWith('-') ||
    ref.length > 256 ||
    // biome-ignore lint/suspicious/noControlCharactersInRegex: git refuses control characters in ref names, so does this check
    /[\s\x00-\x1f\x7f~^:?*[\\]|\.\.|@\{/.test(ref)
  ) {
    throw badRequest(`ref ${JSON.stringify(ref)} is not a branch, tag or commit name`, 'ref');
  }
}

/**
 * Clones with the service's HOME (and ssh agent) so its ssh keys and credential
 * helpers work; remote helpers (`ext::`) are off, and `file://` only when allowed.
 * With `onOutput`, git reports its progress, fed to it line by line. A clone
 * is stopped at its time limit, when `signal` aborts (the session was
 * cancelled: git and its helpers, ssh included, are killed as a group), and
 * at its size limit: no file git writes may grow past it (RLIMIT_FSIZE, so a
 * small repository holding one huge file stops at that file), and the whole
 * clone, work tree and `.git`, is measured every second while git runs, and
 * once at the end.
 */
export async function clone(
  url: string,
  into: string,
  cwd: string,
  opts: LocalSandboxOptions,
  onOutput?: (line: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  const allowLocal = opts.allowLocalRepos;
  const serviceHome = process.env['HOME'] ?? cwd;
  const env: Record<string, string> = {};
  if (process.env['SSH_AUTH_SOCK'] !== undefined)
    env['SSH_AUTH_SOCK'] = process.env['SSH_AUTH_SOCK'];
  // The server's paths are nobody's business: "Cloning into 'workspace'...".
  const feed = onOutput
    ? new OutputFeed((line) => onOutput(line.split(into).join('workspace')))
    : undefined;
  const args = [
    '-c',
    'protocol.ext.allow=never',
    '-c',
    `protocol.file.allow=${allowLocal ? 'always' : 'never'}`,
    'clone',
    feed ? '--progress' : '--quiet',
    '--no-hardlinks',
    '--',
    url,
    into,
  ];
  const max = opts.cloneMaxBytes ?? 0;
  const tooLarge = () =>
    new AppError(
      'sandbox_failed',
      502,
      `the repository is larger than the limit of ${formatBytes(max)} (CLONE_MAX_MB)`,
    );
  const sizeLimit = new AbortController();
  let measuring = false;
  const watch =
    max > 0
      ? setInterval(() => {
          if (measuring) return;
          measuring = true;
          void directoryBytes(into)
            .then((bytes) => {
              if (bytes > max) sizeLimit.abort(tooLarge());
            })
            .finally(() => {
              measuring = false;
            });
        }, CLONE_SIZE_POLL_MS)
      : undefined;
  try {
    await runGit(args, cwd, {
      home: serviceHome,
      env,
      timeoutMs: opts.cloneTimeoutMs ?? DEFAULT_CLONE_TIMEOUT_MS,
      signal: signal ? AbortSignal.any([sizeLimit.signal, signal]) : sizeLimit.signal,
      ...(max > 0 ? { fileSizeLimit: max } : {}),
      ...(feed ? { onStderr: (c: Buffer) => feed.write('stderr', c) } : {}),
    });
    if (max > 0 && (await directoryBytes(into)) > max) throw tooLarge();
  } catch (caught) {
    // Stopped by the size limit: the watchdog, or RLIMIT_FSIZE (git or its index-pack killed
    // by SIGXFSZ, or a write refused: then a file of exactly the limit is left).
    const cancelled = signal?.aborted ?? false;
    const overLimit =
      sizeLimit.signal.aborted ||
      (max > 0 && !cancelled && (isFileTooLarge(caught) || (await holdsFileOf(into, max))));
    const err = overLimit ? (sizeLimit.signal.reason ?? tooLarge()) : caught;
    let why = err instanceof Error ? err.message : String(err);
    // On this machine or a private network, refused, reset, not git and too slow all read alike:
    // the reason must not tell a user which ports there are open.
    if (!overLimit && !cancelled && isInternalHost(hostOf(url))) why = INTERNAL_FAILURE;
    throw new AppError(
      'sandbox_failed',
      502,
      `cannot clone ${redactUrl(url)}: ${feed ? withoutProgress(why) : why}`,
      { cause: err },
    );
  } finally {
    clearInterval(watch);
    feed?.end();
  }
}

export const INTERNAL_FAILURE =
  'no git repository could be fetched there (on loopback and private addresses every failure reads the same, so that it does not tell which ports are open)';

/** The host a repository URL names: `https://host/…`, `ssh://host/…`, `user@host:path`; '' for a local path. */
function hostOf(url: string): string {
  try {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return new URL(url).hostname;
  } catch {
    return '';
  }
  return /^[^/@:]+@(\[[^\]]+\]|[^:/]+):/.exec(url)?.[1] ?? '';
}

/** git stopped by RLIMIT_FSIZE: killed by SIGXFSZ, or a write refused with EFBIG. */
function isFileTooLarge(err: unknown): boolean {
  const m = err instanceof Error ? err.message : '';
  return /File too large|exit 153\b|SIGXFSZ|died of signal 25|invalid index-pack output/.test(m);
}

/** git's complaints (`fatal:`, `error:`) without the progress lines around them, when there are any. */
function withoutProgress(message: string): string {
  // runGit words failures `git clone failed (exit N): <stderr>`.
  const at = message.indexOf('): ');
  if (at === -1) return message;
  const complaints = message
    .slice(at + 3)
    .split(/\r\n|\n|\r/)
    .filter((l) => /^(fatal|error|warning):/.test(l.trim()));
  return complaints.length > 0 ? `${message.slice(0, at + 3)}${complaints.join('\n')}` : message;
}

/** A remote branch becomes a local branch of the same name; a tag or commit is checked out detached. */
export async function checkoutRef(dir: string, home: string, ref: string): Promise<void> {
  const resolves = async (rev: string) =>
    (
      await runGit(
        ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`],
        dir,
        { home, okExitCodes: [0, 1, 128] },
      )
    ).exitCode === 0;
  if (await resolves(`refs/remotes/origin/${ref}`)) {
    await runGit(['checkout', '--quiet', '-B', ref, `refs/remotes/origin/${ref}`, '--'], dir, {
      home,
    });
  } else if (await resolves(ref)) {
    await runGit(['checkout', '--quiet', '--detach', ref, '--'], dir, { home });
  } else {
    throw badRequest(
      `ref ${JSON.stringify(ref)} is not a branch, tag or commit of the repository`,
      'ref',
    );
  }
}
