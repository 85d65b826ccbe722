import { AppError } from '../kernel/errors.ts';

export const BASE_REF = 'refs/swe-agent/base';
// The service's own git calls must not run hooks or an fsmonitor the agent may have configured.
export const GIT = 'git -c core.hooksPath=/dev/null -c core.fsmonitor=false';
export const SEARCH_MAX_HITS = 2000;
// Seconds of grace the daemon's own timeout gives the in-sandbox `timeout` before it kills the shell.
export const DAEMON_TIMEOUT_GRACE_S = 5;
export const SERVICE_CALL_TIMEOUT_S = 300;
// Exit code of the in-sandbox path check when it refuses a path; its output is then one of REFUSALS' keys.
export const PATH_REFUSED = 86;
// Worded as `sandbox/paths.ts` words them.
export const REFUSALS: Record<string, string> = {
  dangling: 'goes through a dangling symlink',
  outside: 'goes through a symlink that points outside the workspace',
  git: 'resolves into .git, which the sandbox tools do not touch',
  leaves: 'leaves the workspace',
};

export function refusal(path: string, output: string): AppError {
  const why = REFUSALS[output.trim()] ?? 'cannot be checked';
  return new AppError('sandbox_path', 400, `path ${JSON.stringify(path)} ${why}`);
}

/**
 * A POSIX sh fragment doing in the sandbox what `confine` in `sandbox/paths.ts`
 * does locally, for the normalized, non-empty path `rel`: the repository root is
 * resolved, then each component in turn. An existing symlink is followed to its
 * real path, which must stay inside the root; a dangling one (or a loop) is
 * refused, wherever it is along the path; the first component that does not
 * exist ends the walk, the rest is appended as it is. No resolved prefix may
 * touch `.git` (any case). On success `$r` holds the resolved path relative to
 * the root ('' for the root); on refusal it prints a key of REFUSALS and exits
 * PATH_REFUSED.
 */
export function confineScript(dir: string, rel: string): string {
  return [
    `root=$(cd -P ${q(dir)} 2>/dev/null && pwd -P) || { echo 'no repository'; exit 125; }`,
    `refuse() { printf '%s' "$1"; exit ${PATH_REFUSED}; }`,
    'inside() { [ "$1" = "$root" ] && return 0; case "$1" in "$root"/*) return 0;; esac; return 1; }',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
    'relof() { if [ "$1" = "$root" ]; then r=; else r=${1#"$root"/}; fi; }',
    'isgit() { case "/$1/" in */.[Gg][Ii][Tt]/*) return 0;; esac; return 1; }',
    'cur=$root',
    `set -- ${rel.split('/').map(q).join(' ')}`,
    'while [ $# -gt 0 ]; do',
    '  n=$cur/$1; shift',
    '  if [ -L "$n" ]; then',
    // -e follows the whole chain: false for a dangling symlink or a loop.
    '    [ -e "$n" ] || refuse dangling',
    // The trailing '.' keeps a target's own trailing newlines from being eaten by $(...).
    '    t=$(readlink -f "$n" 2>/dev/null && echo .) || refuse dangling',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
    '    t=${t%??}',
    '    inside "$t" || refuse outside',
    '    cur=$t',
    '  elif [ -e "$n" ]; then',
    '    cur=$n',
    '  else',
    '    cur=$n',
    '    for p in "$@"; do cur=$cur/$p; done',
    '    break',
    '  fi',
    '  relof "$cur"; if isgit "$r"; then refuse git; fi',
    'done',
    'inside "$cur" || refuse leaves',
    'relof "$cur"; if isgit "$r"; then refuse git; fi',
  ].join('\n');
}

/** Single-quotes for the sandbox's POSIX shell. */
export function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The toolbox daemon splits a command on spaces and execs it without a shell,
 * knowing quotes but no escapes. A base64 script has neither spaces nor quotes,
 * so any script arrives byte for byte and runs under a real `sh`.
 */
export function wrapScript(script: string): string {
  return `sh -c "echo ${Buffer.from(script, 'utf8').toString('base64')} | base64 -d | sh"`;
}
