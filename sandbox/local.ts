import { mkdir, readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { badRequest } from '../kernel/errors.ts';
import { runGit } from './exec.ts';
import type { Sandbox, SandboxProvider, SandboxSpec } from './port.ts';
import { checkRepoUrl } from './repo-url.ts';

import {
  type LocalSandboxOptions,
  BASE_FILE,
  SESSION_ID,
  GIT_IDENTITY,
  RESOLV_FILE,
} from './local-options.ts';
import { SLIRP_RESOLV_CONF } from './slirp.ts';
import { checkoutRef, checkRef, clone } from './local-clone.ts';
import { commandIsolation, confinementFor, openSandbox } from './local-workspace.ts';

export {
  DEFAULT_CLONE_TIMEOUT_MS,
  LIST_FILES_CAP,
  type LocalSandboxOptions,
  READ_FILE_MAX_BYTES,
  SEARCH_HIT_CAP,
} from './local-options.ts';

export function createLocalSandboxProvider(opts: LocalSandboxOptions): SandboxProvider {
  const root = resolve(opts.root);
  let resolvWritten = false;
  const realRoot = async () => {
    await mkdir(root, { recursive: true, mode: 0o700 });
    const real = await realpath(root);
    if (!resolvWritten) {
      // What commands on the `internet` network resolve names with (bound over their /etc/resolv.conf).
      await writeFile(join(real, RESOLV_FILE), SLIRP_RESOLV_CONF, { mode: 0o644 });
      resolvWritten = true;
    }
    return real;
  };

  return {
    kind: 'local',

    async create(spec: SandboxSpec): Promise<Sandbox> {
      checkSessionId(spec.sessionId);
      const url = checkRepoUrl(spec.repoUrl, { allowLocalRepos: opts.allowLocalRepos });
      if (spec.ref !== undefined) checkRef(spec.ref);
      const base = await realRoot();
      const dir = join(base, spec.sessionId);
      const tmp = join(base, `${spec.sessionId}.cloning`);
      const home = join(base, `${spec.sessionId}.home`);
      const scratch = join(base, `${spec.sessionId}.tmp`);
      await Promise.all([
        rm(dir, { recursive: true, force: true }),
        rm(tmp, { recursive: true, force: true }),
        rm(home, { recursive: true, force: true }),
        rm(scratch, { recursive: true, force: true }),
      ]);
      await Promise.all([mkdir(home, { recursive: true }), mkdir(scratch, { recursive: true })]);
      try {
        await clone(url, tmp, base, opts, spec.onOutput, spec.signal);
        const git = (args: string[]) => runGit(args, tmp, { home });
        if (spec.ref !== undefined) await checkoutRef(tmp, home, spec.ref);
        const head = (await git(['rev-parse', '--verify', 'HEAD^{commit}'])).stdout.trim();
        for (const [key, value] of GIT_IDENTITY) await git(['config', key, value]);
        await writeFile(join(tmp, '.git', BASE_FILE), `${head}\n`);
        await rename(tmp, dir);
        return openSandbox(spec.sessionId, dir, home, head, opts);
      } catch (err) {
        // No sandbox was made, so no destroy() will come for it: leave neither the half clone nor its HOME.
        await Promise.all([
          rm(tmp, { recursive: true, force: true }),
          rm(home, { recursive: true, force: true }),
          rm(scratch, { recursive: true, force: true }),
        ]);
        throw err;
      }
    },

    async attach(sessionId: string, id: string): Promise<Sandbox | null> {
      if (!SESSION_ID.test(sessionId) || id !== sessionId) return null;
      const base = await realRoot();
      const dir = join(base, sessionId);
      const home = join(base, `${sessionId}.home`);
      let head: string;
      try {
        head = (await readFile(join(dir, '.git', BASE_FILE), 'utf8')).trim();
      } catch {
        return null;
      }
      if (!/^[0-9a-f]{40,64}$/.test(head)) return null;
      await Promise.all([
        mkdir(home, { recursive: true }),
        mkdir(join(base, `${sessionId}.tmp`), { recursive: true }),
      ]);
      // Commands have had this `.git` in their hands: git reads it confined, as in the sandbox.
      const confinement = confinementFor(
        await commandIsolation(opts),
        dir,
        home,
        join(base, `${sessionId}.tmp`),
        opts,
        true,
      );
      const known = await runGit(['cat-file', '-e', `${head}^{commit}`], dir, {
        home,
        confinement,
        okExitCodes: [0, 1, 128],
      }).catch(() => null);
      if (known === null || known.exitCode !== 0) return null;
      return openSandbox(sessionId, dir, home, head, opts);
    },

    async destroy(sessionId: string): Promise<void> {
      checkSessionId(sessionId);
      const base = await realRoot();
      await Promise.all(
        ['', '.cloning', '.home', '.tmp'].map((suffix) =>
          rm(join(base, sessionId + suffix), { recursive: true, force: true }),
        ),
      );
    },
  };
}

function checkSessionId(sessionId: string): void {
  if (!SESSION_ID.test(sessionId))
    throw badRequest(
      `session id ${JSON.stringify(sessionId)} is not usable as a workspace name (letters, digits, "_", "-")`,
    );
}
