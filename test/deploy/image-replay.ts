/**
 * Replays the Dockerfile's steps on this machine, without a Docker engine:
 * the build context is the repository filtered by .dockerignore, each stage's
 * filesystem is a folder (its `/app` is `<stage>/app`), COPY copies, the
 * `npm` steps of RUN really run, `mkdir` makes folders and `chown` is done
 * when we are root. What only a base image can do (apt-get) is recorded as
 * skipped; any other RUN step fails the replay, so a new step is noticed.
 */
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { dockerignore, parseCopy, parseEnv, parseDockerfile, type Stage } from './dockerfile.ts';

/** uid and gid of `node` in the official Node images. */
export const NODE_USER_ID = 1000;

export interface ReplayedStage {
  stage: Stage;
  /** The folder standing for the stage's `/`. */
  root: string;
  workdir: string;
  env: Record<string, string>;
  user: string | undefined;
  /** Paths declared by VOLUME: kept by Docker beyond the container. */
  volumes: string[];
  /** RUN commands not replayed (apt-get and the like), for the record. */
  skipped: string[];
}

/** Copies the build context: every file of `repo` that .dockerignore lets through. */
export function buildContext(repo: string, into: string): string[] {
  const ignored = dockerignore(readFileSync(join(repo, '.dockerignore'), 'utf8'));
  const copied: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(repo, rel))) {
      const path = rel === '' ? name : `${rel}/${name}`;
      if (ignored(path)) continue;
      if (statSync(join(repo, path)).isDirectory()) walk(path);
      else {
        cpSync(join(repo, path), join(into, path));
        copied.push(path);
      }
    }
  };
  walk('');
  return copied;
}

/** Runs every stage of `dockerfile` over the context `context`, each in a folder under `into`. */
export function replay(
  dockerfile: string,
  context: string,
  into: string,
  opts: { runEnv?: Record<string, string> } = {},
): ReplayedStage[] {
  const done: ReplayedStage[] = [];
  for (const stage of parseDockerfile(dockerfile)) {
    const root = join(into, `stage-${stage.name}`);
    mkdirSync(root, { recursive: true });
    const s: ReplayedStage = {
      stage,
      root,
      workdir: '/',
      env: {},
      user: undefined,
      volumes: [],
      skipped: [],
    };
    const inStage = (p: string) => join(root, p.startsWith('/') ? p : join(s.workdir, p));
    for (const step of stage.steps) {
      if (step.op === 'WORKDIR') {
        s.workdir = step.args.startsWith('/') ? step.args : join(s.workdir, step.args);
        mkdirSync(inStage(s.workdir), { recursive: true });
      } else if (step.op === 'ENV') {
        Object.assign(s.env, parseEnv(step.args));
      } else if (step.op === 'VOLUME') {
        // A mount point: its contents are what the steps before left there.
        s.volumes.push(...parseVolumes(step.args));
      } else if (step.op === 'USER') {
        s.user = step.args;
      } else if (step.op === 'COPY') {
        const copy = parseCopy(step.args);
        const fromStage =
          copy.from === undefined ? undefined : done.find((d) => d.stage.name === copy.from);
        if (copy.from !== undefined && !fromStage)
          throw new Error(
            `Dockerfile line ${step.line}: COPY --from=${copy.from} names no earlier stage`,
          );
        const toDir = copy.dest.endsWith('/') || copy.sources.length > 1;
        for (const src of copy.sources) {
          const from = fromStage ? join(fromStage.root, src) : join(context, src);
          if (!existsSync(from))
            throw new Error(
              `Dockerfile line ${step.line}: COPY source ${src} is not in the ${fromStage ? `stage ${fromStage.stage.name}` : 'build context (.dockerignore?)'}`,
            );
          const target = toDir ? join(inStage(copy.dest), basename(src)) : inStage(copy.dest);
          cpSync(from, target, { recursive: true, verbatimSymlinks: true });
        }
      } else if (step.op === 'RUN') {
        for (const part of step.args.split('&&').map((p) => p.trim()))
          runPart(part, s, inStage, opts.runEnv ?? {});
      }
    }
    done.push(s);
  }
  return done;
}

function runPart(
  cmd: string,
  s: ReplayedStage,
  inStage: (p: string) => string,
  runEnv: Record<string, string>,
): void {
  const words = cmd.split(' ');
  if (words[0] === 'npm') {
    execFileSync('/bin/sh', ['-c', cmd], {
      cwd: inStage(s.workdir),
      env: { ...process.env, ...s.env, ...runEnv },
      stdio: 'pipe',
    });
  } else if (words[0] === 'mkdir' && words[1] === '-p') {
    for (const dir of words.slice(2)) mkdirSync(inStage(dir), { recursive: true });
  } else if (words[0] === 'chown' && words.length === 3 && words[1] === 'node:node') {
    if (process.getuid?.() === 0) chownSync(inStage(words[2]!), NODE_USER_ID, NODE_USER_ID);
  } else if (words[0] === 'chmod' && words.length >= 3 && /^[0-7]{3,4}$/.test(words[1]!)) {
    for (const path of words.slice(2)) chmodSync(inStage(path), Number.parseInt(words[1]!, 8));
  } else if (words[0] === 'apt-get' || (words[0] === 'rm' && words[2] === '/var/lib/apt/lists/*')) {
    s.skipped.push(cmd);
  } else {
    throw new Error(
      `the replay does not know this RUN step: ${cmd} (teach test/deploy/image-replay.ts, or check the Dockerfile)`,
    );
  }
}

/** VOLUME's paths, in JSON or plain form. */
function parseVolumes(args: string): string[] {
  return args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(' ');
}
