/**
 * Which repository URLs a session may clone. The URL reaches `git clone`, so
 * anything git would read as an option (`-u…`), a remote helper
 * (`ext::sh -c …`, `fd::`, `<transport>::…`) or a local path is refused
 * unless explicitly allowed. Plain `http://` and `git://` are refused: they
 * are unauthenticated, and a man in the middle could hand the agent any code.
 */
import { AppError } from '../kernel/errors.ts';
import { forbiddenHost } from '../kernel/hosts.ts';

export interface RepoUrlPolicy {
  /** `file://` URLs and absolute paths on this machine (ALLOW_LOCAL_REPOS; tests, single-user setups). */
  allowLocalRepos: boolean;
}

const MAX_LENGTH = 2048;
// user@host:path, git's scp-like syntax; host must not look like an option.
const SCP_LIKE = /^[A-Za-z0-9._~-]+@[A-Za-z0-9][A-Za-z0-9.-]*:(?!\/\/)[^\s]+$/;

const refuse = (url: string, why: string) =>
  new AppError('sandbox_repo_url', 400, `repo_url ${JSON.stringify(url.slice(0, 200))} ${why}`, {
    field: 'repo_url',
  });

/** Returns the URL when it may be cloned; throws a `sandbox_repo_url` AppError saying why not. */
export function checkRepoUrl(url: string, policy: RepoUrlPolicy): string {
  if (typeof url !== 'string' || url === '') throw refuse(String(url), 'is empty');
  if (url.length > MAX_LENGTH) throw refuse(url, `is longer than ${MAX_LENGTH} characters`);
  if (/^[A-Za-z0-9+.-]*::/.test(url) || /(^|[^A-Za-z0-9])(ext|fd)::/i.test(url)) {
    throw refuse(url, 'uses a git remote helper ("transport::address"), which can run commands');
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejects repository URLs with control characters
  if (/[\s\x00-\x1f\x7f]/.test(url)) throw refuse(url, 'contains whitespace or control characters');
  if (url.startsWith('-')) throw refuse(url, 'starts with "-" (git would read it as an option)');

  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'https' || scheme === 'ssh') {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw refuse(url, 'is not a valid URL');
    }
    if (parsed.hostname === '' || parsed.hostname.startsWith('-'))
      throw refuse(url, 'has no valid host');
    const forbidden = forbiddenHost(parsed.hostname);
    if (forbidden)
      throw refuse(
        url,
        `names a host the node does not clone from: ${parsed.hostname} ${forbidden}`,
      );
    // A token in the URL would be stored, shown by GET and the UI, and logged by git: never taken.
    // (`ssh://git@host/…` names a user, not a secret, and stays.)
    if (parsed.password !== '' || (scheme === 'https' && parsed.username !== '')) {
      throw refuse(
        `${scheme}://…@${parsed.host}${parsed.pathname}`,
        'holds credentials, which would be stored and shown with the session: give the repository URL without them, and let the node authenticate (its SSH key for ssh:// URLs, or a git credential helper of the user it runs as for https://)',
      );
    }
    if (parsed.pathname === '' || parsed.pathname === '/')
      throw refuse(url, 'names no repository path');
    return url;
  }
  if (scheme === 'file') {
    if (!policy.allowLocalRepos)
      throw refuse(url, 'is a local repository; set ALLOW_LOCAL_REPOS=true to allow them');
    if (!url.startsWith('file:///')) throw refuse(url, 'must be file:///absolute/path');
    return url;
  }
  if (scheme === 'http' || scheme === 'git')
    throw refuse(url, `uses unauthenticated ${scheme}://; use https:// or ssh://`);
  if (scheme !== undefined)
    throw refuse(url, `uses the unsupported scheme ${scheme}://; use https:// or ssh://`);

  if (url.startsWith('/')) {
    if (!policy.allowLocalRepos)
      throw refuse(url, 'is a local repository; set ALLOW_LOCAL_REPOS=true to allow them');
    return url;
  }
  if (SCP_LIKE.test(url)) {
    const path = url.slice(url.indexOf(':') + 1);
    if (path.startsWith('-')) throw refuse(url, 'has a path starting with "-"');
    return url;
  }
  throw refuse(url, 'is not an https://, ssh:// or user@host:path repository URL');
}
