/**
 * Path confinement for the sandbox's file tools. A tool path is relative to
 * the repository root and `/`-separated; it must stay inside the workspace
 * after every symlink along it is followed, and must not touch `.git/` (the
 * base commit, hooks and config live there: writing them would let the agent
 * run code in the service's own git calls or move the diff's base).
 */
import type { Stats } from 'node:fs';
import { lstat, realpath } from 'node:fs/promises';
import { posix, sep, relative, join, isAbsolute } from 'node:path';
import { AppError } from '../kernel/errors.ts';

export interface ConfinedPath {
  /** Absolute real path inside the workspace (symlinks along the existing part resolved). */
  abs: string;
  /** The same path relative to the workspace root, `/`-separated; '' for the root itself. */
  rel: string;
}

const refuse = (path: string, why: string) =>
  new AppError('sandbox_path', 400, `path ${JSON.stringify(path)} ${why}`);

/** Checks the path's text only: no NUL, not absolute, no `..` out of the root, no `.git`. Returns its normal form ('' for the root). */
export function normalizeToolPath(path: string): string {
  if (typeof path !== 'string') throw refuse(String(path), 'is not a string');
  if (path.includes('\0')) throw refuse(path, 'contains a NUL byte');
  if (path.startsWith('/') || isAbsolute(path))
    throw refuse(path, 'is absolute; use a path relative to the repository root');
  const norm = posix.normalize(path === '' ? '.' : path).replace(/\/+$/, '');
  if (norm === '..' || norm.startsWith('../')) throw refuse(path, 'leaves the workspace');
  const rel = norm === '.' ? '' : norm;
  if (touchesGit(rel)) throw refuse(path, 'is inside .git, which the sandbox tools do not touch');
  return rel;
}

/**
 * Resolves a tool path to a real path inside `root` (itself a real path).
 * Every existing component is lstat'ed; symlinks are followed and must land
 * inside the root and outside `.git`. A dangling symlink is refused: where it
 * would create a file cannot be checked. Components that do not exist yet are
 * appended as they are (a write creates them as plain directories).
 */
export async function confine(root: string, path: string): Promise<ConfinedPath> {
  const rel = normalizeToolPath(path);
  let current = root;
  const parts = rel === '' ? [] : rel.split('/');
  for (let i = 0; i < parts.length; i++) {
    const next = join(current, parts[i] as string);
    let st: Stats;
    try {
      st = await lstat(next);
    } catch (err) {
      if (
        (err as NodeJS.ErrnoException).code === 'ENOENT' ||
        (err as NodeJS.ErrnoException).code === 'ENOTDIR'
      ) {
        current = join(next, ...parts.slice(i + 1));
        break;
      }
      throw refuse(path, `cannot be checked (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    if (st.isSymbolicLink()) {
      let target: string;
      try {
        target = await realpath(next);
      } catch {
        throw refuse(path, 'goes through a dangling symlink');
      }
      if (!inside(root, target))
        throw refuse(path, 'goes through a symlink that points outside the workspace');
      current = target;
    } else {
      current = next;
    }
    if (touchesGit(toRel(root, current)))
      throw refuse(path, 'resolves into .git, which the sandbox tools do not touch');
  }
  if (!inside(root, current)) throw refuse(path, 'leaves the workspace');
  const finalRel = toRel(root, current);
  if (touchesGit(finalRel))
    throw refuse(path, 'resolves into .git, which the sandbox tools do not touch');
  return { abs: current, rel: finalRel };
}

function inside(root: string, p: string): boolean {
  const r = relative(root, p);
  return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r));
}

function toRel(root: string, p: string): string {
  return relative(root, p).split(sep).join('/');
}

// Case-insensitive: on a case-insensitive filesystem `.GIT/config` is the same file.
function touchesGit(rel: string): boolean {
  return rel !== '' && rel.split('/').some((seg) => seg.toLowerCase() === '.git');
}
