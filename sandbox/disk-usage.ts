/**
 * Bytes a directory holds on disk: for the clone's size limit, a walk
 * counting regular files by size (symlinks not followed, entries that vanish
 * mid-walk skipped: a clone in progress renames its temporary files); for the
 * workspace quota, which is measured every second while a command runs, `du`.
 */
import { execFile } from 'node:child_process';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop()!;
    const entries = await readdir(current, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const path = join(current, e.name);
      if (e.isDirectory()) pending.push(path);
      else if (e.isFile()) total += (await lstat(path).catch(() => null))?.size ?? 0;
    }
  }
  return total;
}

/** Whether any regular file under `dir` holds at least `bytes` (a write stopped there by RLIMIT_FSIZE). */
export async function holdsFileOf(dir: string, bytes: number): Promise<boolean> {
  const pending = [dir];
  while (pending.length > 0) {
    const current = pending.pop()!;
    const entries = await readdir(current, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const path = join(current, e.name);
      if (e.isDirectory()) pending.push(path);
      else if (e.isFile() && ((await lstat(path).catch(() => null))?.size ?? 0) >= bytes)
        return true;
    }
  }
  return false;
}

/** A byte count as the configuration states it: whole MB when it is one. */
export function formatBytes(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return Number.isInteger(mb) ? `${mb} MB` : `${bytes} bytes`;
}

/**
 * Bytes the directories occupy on disk (allocated blocks, a file with several
 * links counted once; a missing directory counts 0), by `du -sk`: about 80 ms
 * for a checkout with its node_modules (26 000 files), nearly all of it in
 * the kernel and in another process, where `directoryBytes` spends 0.6–1 s of
 * this process's CPU on the same tree. Falls back to that walk without `du`.
 */
export function diskBytes(dirs: string[]): Promise<number> {
  return new Promise((resolve) => {
    const env = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LC_ALL: 'C' };
    // du exits 1 when a file vanishes during the walk (a command deleting) or a directory is missing; its totals still count.
    execFile('du', ['-sk', ...dirs], { env, maxBuffer: 64 * 1024 }, (_err, stdout) => {
      const totals = String(stdout)
        .split('\n')
        .flatMap((line) => /^(\d+)\s/.exec(line)?.[1] ?? []);
      if (totals.length > 0) return resolve(totals.reduce((sum, kb) => sum + Number(kb) * 1024, 0));
      void Promise.all(dirs.map(directoryBytes)).then((sizes) =>
        resolve(sizes.reduce((a, b) => a + b, 0)),
      );
    });
  });
}
