/**
 * The store without REDIS_URL, as the wiring opens it: SQLite in DATA_DIR
 * with a SECRET_KEY made once and kept there (so sealed provider keys open
 * after a restart), the in-process store for `:memory:`, and a clear refusal
 * when there is nowhere to keep the data.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSecretBox } from '../../kernel/secret-box.ts';
import { createLogger } from '../../kernel/logger.ts';
import { sealedProfiles } from '../../runtime/profiles.ts';
import { loadConfig } from '../../server/config.ts';
import { openEmbeddedStore, SECRET_KEY_FILE } from '../../server/embedded-store.ts';

const lines: string[] = [];
const logger = createLogger({ level: 'debug', write: (l) => lines.push(l) });
let dir = '';
afterEach(() => {
  lines.length = 0;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the embedded store', () => {
  it('keeps a sealed provider key readable across restarts with the SECRET_KEY it made once, and says where the data is', async () => {
    dir = mkdtempSync(join(tmpdir(), 'swe-embedded-'));
    const config = loadConfig({ HOME: dir });
    expect(config.dataDir).toBe(join(dir, '.local', 'share', 'swe-agent'));
    const a = await openEmbeddedStore(config, logger);
    expect(a.store.kind).toBe('sqlite');
    await sealedProfiles(a.store, await createSecretBox(a.secretKey)).put({
      id: 'p1',
      name: 'main',
      isDefault: true,
      provider: 'openai',
      model: 'm',
      apiKey: 'sk-sealed-SECRET',
    });
    await a.store.close();
    const keyFile = join(config.dataDir!, SECRET_KEY_FILE);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(config.dataDir!, 'swe-agent.db')).includes('sk-sealed-SECRET')).toBe(
      false,
    );
    expect(lines.join('\n')).toMatch(
      /store: sqlite in \S+swe-agent — sessions, AI profiles, users and tokens are kept/,
    );

    const b = await openEmbeddedStore(config, logger);
    try {
      expect(b.secretKey).toBe(a.secretKey);
      const p = await sealedProfiles(b.store, await createSecretBox(b.secretKey)).get('p1');
      expect(p?.apiKey).toBe('sk-sealed-SECRET');
    } finally {
      await b.store.close();
    }
    expect(lines.join('\n')).not.toContain(a.secretKey);
  });

  it('uses DATA_DIR over XDG_DATA_HOME over HOME, and SECRET_KEY when set', async () => {
    dir = mkdtempSync(join(tmpdir(), 'swe-embedded-'));
    expect(loadConfig({ HOME: '/h', XDG_DATA_HOME: '/x' }).dataDir).toBe('/x/swe-agent');
    expect(loadConfig({ HOME: '/h', XDG_DATA_HOME: 'relative' }).dataDir).toBe(
      '/h/.local/share/swe-agent',
    );
    expect(loadConfig({ HOME: '/h', DATA_DIR: 'rel/data' }).dataDir).toBe(
      join(process.cwd(), 'rel/data'),
    );
    expect(() => loadConfig({ DATA_DIR: '/srv/ws/data', WORKSPACE_DIR: '/srv/ws' })).toThrow(
      /^DATA_DIR: \/srv\/ws\/data and WORKSPACE_DIR \/srv\/ws are one inside the other/,
    );
    expect(() => loadConfig({ DATA_DIR: '/srv', WORKSPACE_DIR: '/srv/ws' })).toThrow(/^DATA_DIR: /);
    expect(loadConfig({ DATA_DIR: '/srv/data', WORKSPACE_DIR: '/srv/data-ws' }).dataDir).toBe(
      '/srv/data',
    );
    // With Redis there is no data directory to check.
    expect(
      loadConfig({
        REDIS_URL: 'redis://h',
        SECRET_KEY: 'k'.repeat(16),
        DATA_DIR: '/w',
        WORKSPACE_DIR: '/w',
      }).dataDir,
    ).toBeUndefined();
    const s = await openEmbeddedStore(
      loadConfig({ DATA_DIR: join(dir, 'd'), SECRET_KEY: 'a-secret-key-of-the-operator' }),
      logger,
    );
    await s.store.close();
    expect(s.secretKey).toBe('a-secret-key-of-the-operator');
    expect(() => statSync(join(dir, 'd', SECRET_KEY_FILE))).toThrow();
  });

  it('keeps nothing with DATA_DIR=:memory:, and says so', async () => {
    const s = await openEmbeddedStore(loadConfig({ DATA_DIR: ':memory:' }), logger);
    expect(s.store.kind).toBe('memory');
    await s.store.close();
    expect(lines.join('\n')).toMatch(/nothing is kept/);
  });

  it('refuses to start with nowhere to keep the data, naming DATA_DIR', async () => {
    const config = loadConfig({});
    expect(config.dataDir).toBeUndefined();
    await expect(openEmbeddedStore(config, logger)).rejects.toThrow(
      /^DATA_DIR: is not set, and there is no HOME .*Set DATA_DIR/,
    );
  });

  it('refuses a kept secret-key file that holds no key, naming SECRET_KEY', async () => {
    dir = mkdtempSync(join(tmpdir(), 'swe-embedded-'));
    const config = loadConfig({ DATA_DIR: dir });
    const first = await openEmbeddedStore(config, logger);
    await first.store.close();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, SECRET_KEY_FILE), 'short\n');
    await expect(openEmbeddedStore(config, logger)).rejects.toThrow(
      /^SECRET_KEY: is not set, and .*secret-key holds no key/,
    );
    // The store it opened is closed again: the directory is free.
    const again = await openEmbeddedStore(
      { ...config, secretKey: 'operator-key-0123456789' },
      logger,
    );
    await again.store.close();
  });
});
