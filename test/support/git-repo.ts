/**
 * A real git repository for tests: `git init`, the given files, one commit.
 * The identity is passed with `-c` so the test machine's git config does not matter.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

const IDENTITY = [
  '-c',
  'user.name=Test',
  '-c',
  'user.email=test@example.com',
  '-c',
  'commit.gpgsign=false',
  '-c',
  'core.hooksPath=/dev/null',
];

/** Creates the repository at `dir` (made if missing) on branch `main`; returns its absolute path. */
export async function makeTestRepo(dir: string, files: Record<string, string>): Promise<string> {
  const repo = resolve(dir);
  await mkdir(repo, { recursive: true });
  await exec('git', ['init', '--quiet', '--initial-branch=main', repo]);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(repo, path)), { recursive: true });
    await writeFile(join(repo, path), content);
  }
  await exec('git', [...IDENTITY, 'add', '--all'], { cwd: repo });
  await exec('git', [...IDENTITY, 'commit', '--quiet', '--no-verify', '-m', 'initial commit'], {
    cwd: repo,
  });
  return repo;
}
