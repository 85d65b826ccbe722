/**
 * `.env` at startup: the parser, the environment winning over the file,
 * errors that name the file, line and fix, warnings for likely typos, and a
 * real node that reads its settings from the `.env` of its working directory.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../../server/config.ts';
import { parseDotenv } from '../../server/dotenv.ts';
import { mergeEnv, readEnvFile, suggestVariable, typoWarnings } from '../../server/env.ts';
import { ConfigError } from '../../kernel/errors.ts';
import { freePort } from '../support/net.ts';
import { waitFor } from '../support/wait.ts';

const MAIN = fileURLToPath(new URL('../../server/main.ts', import.meta.url));
const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'swe-env-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const parseError = (text: string): ConfigError => {
  try {
    parseDotenv(text, '/srv/.env');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
};

describe('.env parsing', () => {
  it("reads the user guide's file as printed: comments, blank lines, a comment after a value", () => {
    const guide = [
      '# Infrastructure Configuration',
      'REDIS_URL=redis://localhost:6379/0',
      '',
      "# 'local': Runs in ./workspace/{session_id}",
      'SANDBOX_TYPE=daytona',
      'DAYTONA_API_KEY=your-daytona-api-key',
      'DAYTONA_SERVER_URL=https://api.daytona.io # Optional',
      'DAYTONA_TARGET_IMAGE=ubuntu:22.04 # Image for the sandbox environment',
    ].join('\n');
    expect(parseDotenv(guide, '.env').vars).toEqual({
      REDIS_URL: 'redis://localhost:6379/0',
      SANDBOX_TYPE: 'daytona',
      DAYTONA_API_KEY: 'your-daytona-api-key',
      DAYTONA_SERVER_URL: 'https://api.daytona.io',
      DAYTONA_TARGET_IMAGE: 'ubuntu:22.04',
    });
  });

  it('takes export, quotes, escapes, = in values, CRLF and a BOM; no interpolation', () => {
    const text =
      // biome-ignore lint/suspicious/noTemplateCurlyInString: dotenv text whose ${A} must stay literal (no interpolation)
      '\uFEFFexport A=1\r\nB = "two words # not a comment" # comment\r\nC=\'${A} $B\'\nD="line\\nbreak \\"q\\""\nE=x=y#z\nF=\nG=   # only a comment\n  H=indented  \n';
    expect(parseDotenv(text, '.env').vars).toEqual({
      A: '1',
      B: 'two words # not a comment',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal ${A} the parser must keep
      C: '${A} $B',
      D: 'line\nbreak "q"',
      E: 'x=y#z',
      F: '',
      G: '',
      H: 'indented',
    });
  });

  it('keeps the last of a name set twice, and says so', () => {
    const f = parseDotenv('PORT=1\nPORT=2\n', '/srv/.env');
    expect(f.vars['PORT']).toBe('2');
    expect(f.warnings).toEqual([
      '/srv/.env line 2 sets PORT again (first on line 1); the last one wins',
    ]);
  });

  it("stops on a malformed line, naming the file, the line and the fix, never the line's text", () => {
    const noEquals = parseError('PORT=8000\nAI_API_KEY sk-secret-value\n');
    expect(noEquals.variable).toBe('ENV_FILE');
    expect(noEquals.message).toMatch(
      /^ENV_FILE: \/srv\/\.env line 2 is not a setting: it has no "="\. Write each setting on its own line as NAME=value/,
    );
    expect(noEquals.message).not.toContain('sk-secret-value');
    expect(parseError('REDIS-URL=x').message).toMatch(
      /line 1 has a name that is not valid \("REDIS-URL"/,
    );
    expect(parseError('=x').message).toMatch(/line 1 has no name/);
    expect(parseError('\n\nA="open').message).toMatch(
      /line 3 opens a double quote that is not closed/,
    );
    expect(parseError("A='x' y").message).toMatch(/line 1 has text after the closing quote/);
  });
});

describe('deploy/env.example', () => {
  it('parses, names only our variables (set or commented out), and suits docker run --env-file: no quotes, no comments after values', () => {
    const text = readFileSync(
      fileURLToPath(new URL('../../deploy/env.example', import.meta.url)),
      'utf8',
    );
    const f = parseDotenv(text, 'env.example');
    expect(f.warnings).toEqual([]);
    const commented = [...text.matchAll(/^#([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!);
    for (const name of [...Object.keys(f.vars), ...commented])
      expect(Object.keys(CONFIG_VARIABLES), name).toContain(name);
    for (const line of text.split('\n').filter((l) => /^[A-Z]/.test(l)))
      expect(line, line).toMatch(/^[A-Z][A-Z0-9_]*=[^"'#\s]*$/);
    expect(Object.keys(f.vars)).toEqual(expect.arrayContaining(['SECRET_KEY', 'ADMIN_TOKEN']));
  });
});

describe('the environment over .env', () => {
  it('lets a variable of the environment win over the file, even when empty', () => {
    const env = mergeEnv(
      { PORT: '9000', LOG_LEVEL: '' },
      { PORT: '8000', LOG_LEVEL: 'debug', SANDBOX_TYPE: 'local' },
    );
    expect(env).toMatchObject({ PORT: '9000', LOG_LEVEL: '', SANDBOX_TYPE: 'local' });
  });

  it('tidies our variables as docker run --env-file passes them: a trailing comment, quotes', () => {
    const env = mergeEnv(
      {
        DAYTONA_SERVER_URL: 'https://api.daytona.io # Optional',
        AI_MODEL: '"gpt-4o-mini"',
        OTHER: 'a # b',
      },
      {},
    );
    expect(env).toMatchObject({
      DAYTONA_SERVER_URL: 'https://api.daytona.io',
      AI_MODEL: 'gpt-4o-mini',
      OTHER: 'a # b',
    });
  });

  it('reads .env from the working directory, or ENV_FILE; a missing .env is fine, a missing ENV_FILE is not', () => {
    const dir = tempDir();
    expect(readEnvFile({}, dir).vars).toEqual({});
    writeFileSync(join(dir, '.env'), 'PORT=8123\n');
    expect(readEnvFile({}, dir).vars).toEqual({ PORT: '8123' });
    writeFileSync(join(dir, 'other.env'), 'PORT=8124\n');
    expect(readEnvFile({ ENV_FILE: 'other.env' }, dir).vars).toEqual({ PORT: '8124' });
    expect(() => readEnvFile({ ENV_FILE: join(dir, 'nope.env') }, dir)).toThrow(
      /^ENV_FILE: cannot read .*nope\.env .*Point ENV_FILE at a readable file/,
    );
  });
});

describe('likely typos', () => {
  it("names the variable a misspelt one was meant to be, and leaves other programs' variables alone", () => {
    expect(suggestVariable('REDIS_ULR')).toBe('REDIS_URL');
    expect(suggestVariable('LOGLEVEL')).toBe('LOG_LEVEL');
    expect(suggestVariable('SANDBOX_TPYE')).toBe('SANDBOX_TYPE');
    expect(suggestVariable('secret_key')).toBe('SECRET_KEY');
    // The SDK's own name is read as well as the guide's: not a slip.
    expect(suggestVariable('DAYTONA_API_URL')).toBeUndefined();
    for (const name of [
      'REDIS_URL',
      'HOME',
      'PATH',
      'HOSTNAME',
      'NODE_ENV',
      'NODE_VERSION',
      'PWD',
      'TERM',
      'USER',
      'LANG',
      'CI',
      'SHLVL',
      'REDIS_PORT',
      'REDIS_SERVICE_HOST',
      'WORKSPACE',
      'NODE_NAME',
    ])
      expect(suggestVariable(name), name).toBeUndefined();
  });

  it('warns about a typo in .env with its line, and about one in the environment', () => {
    const file = parseDotenv('PORT=1\nREDIS_ULR=redis://x:6379\n', '/srv/.env');
    expect(
      typoWarnings({ LOGLEVEL: 'debug', HOME: '/root', REDIS_ULR: 'redis://x:6379' }, file),
    ).toEqual([
      '/srv/.env line 2 sets REDIS_ULR, which swe-agent does not read: did you mean REDIS_URL?',
      'the environment sets LOGLEVEL, which swe-agent does not read: did you mean LOG_LEVEL?',
    ]);
  });
});

describe('a node started in a folder with a .env', () => {
  /** Runs the real entry point in `cwd` until it answers on `port` or exits; its output and exit code. */
  async function run(
    cwd: string,
    env: Record<string, string>,
    port: number,
  ): Promise<{ code: number | null; out: string }> {
    const child = spawn(process.execPath, [MAIN], {
      cwd,
      env: { PATH: process.env['PATH'] ?? '', HOME: cwd, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const up = waitFor(
      '/health',
      async () => (await fetch(`http://127.0.0.1:${port}/health`).catch(() => null))?.ok === true,
      30_000,
      100,
    ).then(() => 'up' as const);
    if ((await Promise.race([up, exit])) === 'up') {
      child.kill('SIGTERM');
      up.catch(() => undefined);
    }
    return { code: await exit, out };
  }

  it('takes its settings from the file, the environment over them, and warns about a typo', async () => {
    const dir = tempDir();
    const [filePort, envPort] = [await freePort(), await freePort()];
    writeFileSync(
      join(dir, '.env'),
      `# written by the test\nPORT=${filePort}\nLOG_LEVEL=warn\nREDIS_ULR=redis://127.0.0.1:1\n`,
    );
    const fromFile = await run(dir, {}, filePort);
    expect(fromFile.code).toBe(0);
    expect(fromFile.out).toContain(
      `swe-agent: warning: ${dir}/.env line 4 sets REDIS_ULR, which swe-agent does not read: did you mean REDIS_URL?`,
    );
    // LOG_LEVEL=warn from the file: no info lines.
    expect(fromFile.out).not.toMatch(/"level":"info"/);
    const envWins = await run(dir, { PORT: String(envPort), LOG_LEVEL: 'info' }, envPort);
    expect(envWins.code).toBe(0);
    expect(envWins.out).toMatch(/"level":"info","msg":"listening"/);
  });

  it('stops with exit code 2 on a malformed .env, naming the file and line', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, '.env'), 'PORT=8000\nSANDBOX_TYPE local\n');
    const r = await run(dir, {}, await freePort());
    expect(r.code).toBe(2);
    expect(r.out).toContain(
      `swe-agent: configuration error: ENV_FILE: ${dir}/.env line 2 is not a setting: it has no "="`,
    );
  });

  it('stops with exit code 2 on a bad value in .env, naming the variable and the fix', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, '.env'), 'SANDBOX_TYPE=daytona\n');
    const r = await run(dir, {}, await freePort());
    expect(r.code).toBe(2);
    expect(r.out).toMatch(
      /swe-agent: configuration error: DAYTONA_API_KEY: is not set, and SANDBOX_TYPE=daytona needs it\. Set it to your Daytona API key/,
    );
  });

  it('stops with exit code 2, without a stack, on a setting found wrong while starting', async () => {
    // No `unshare` on this PATH: the namespaces the setting requires cannot be had.
    const r = await run(
      tempDir(),
      { PATH: '/nonexistent', SANDBOX_ISOLATION: 'namespaces' },
      await freePort(),
    );
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/swe-agent: configuration error: SANDBOX_ISOLATION: /);
    expect(r.out).not.toMatch(/\n\s+at /);
  });

  it('stops with exit code 2 and one line when its port is taken, before opening its store', async () => {
    const { createServer } = await import('node:net');
    const taken = createServer();
    const port = await freePort();
    await new Promise<void>((r) => taken.listen(port, '127.0.0.1', r));
    try {
      const dir = tempDir();
      const r = await run(dir, { PORT: String(port), DATA_DIR: join(dir, 'data') }, port);
      expect(r.code).toBe(2);
      expect(r.out.trim()).toBe(
        `swe-agent: configuration error: PORT: 127.0.0.1:${port} is already in use (another swe-agent node, or another program). Stop it, or set PORT to a free port.`,
      );
    } finally {
      taken.close();
    }
  });

  it('stops with exit code 1 and the reason when Redis cannot be reached', async () => {
    const r = await run(
      tempDir(),
      {
        REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
        SECRET_KEY: 'a-secret-key-for-the-test',
      },
      await freePort(),
    );
    expect(r.code).toBe(1);
    expect(r.out).toMatch(
      /swe-agent: cannot start: connecting to Redis at redis:\/\/127\.0\.0\.1:\d+ failed: connection refused: nothing listens on 127\.0\.0\.1:\d+/,
    );
    expect(r.out).not.toMatch(/\n\s+at /);
  });
});
