/**
 * The store without REDIS_URL: SQLite in DATA_DIR (one node, everything kept
 * across restarts), or with `DATA_DIR=:memory:` the in-process store that
 * keeps nothing. Says at start where the data lives.
 *
 * Provider keys are sealed with SECRET_KEY; without one, a key is generated
 * once and kept beside the database (`secret-key`, 0600), so profiles made
 * before a restart still open after it. With the key elsewhere (SECRET_KEY),
 * a copy of the data directory alone does not reveal the provider keys.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../kernel/errors.ts';
import type { Logger } from '../kernel/logger.ts';
import { randomSecretKey } from '../kernel/secret-box.ts';
import type { Store } from '../runtime/store/port.ts';
import type { Config } from './config.ts';

export const SECRET_KEY_FILE = 'secret-key';

export async function openEmbeddedStore(
  config: Config,
  logger: Logger,
): Promise<{ store: Store; secretKey: string }> {
  if (config.dataDir === ':memory:') {
    const { MemoryStore } = await import('../runtime/store/memory/memory-store.ts');
    logger.warn(
      'store: IN-PROCESS (DATA_DIR=:memory:) — nothing is kept: sessions, AI profiles, users and tokens are lost when this process exits; unset DATA_DIR to keep them on disk, or set REDIS_URL',
    );
    return { store: new MemoryStore(), secretKey: config.secretKey ?? randomSecretKey() };
  }
  if (config.dataDir === undefined) {
    throw new ConfigError(
      'DATA_DIR',
      'is not set, and there is no HOME (or XDG_DATA_HOME) to keep the embedded store under',
      'Set DATA_DIR to a directory this user can write (or :memory: to keep nothing), or set REDIS_URL',
    );
  }
  const { SqliteStore } = await import('../runtime/store/sqlite/sqlite-store.ts');
  const store = new SqliteStore({ dir: config.dataDir });
  logger.info(
    `store: sqlite in ${config.dataDir} — sessions, AI profiles, users and tokens are kept across restarts; one node per data directory (set REDIS_URL for several)`,
    { file: store.file },
  );
  if (store.orphansReleased > 0) {
    logger.info('store: sessions the previous process was running are resumed', {
      sessions: store.orphansReleased,
    });
  }
  if (config.secretKey) return { store, secretKey: config.secretKey };
  try {
    return { store, secretKey: keptSecretKey(config.dataDir, logger) };
  } catch (e) {
    await store.close();
    throw e;
  }
}

/** The key kept in the data directory, made at first start. */
function keptSecretKey(dir: string, logger: Logger): string {
  const file = join(dir, SECRET_KEY_FILE);
  if (existsSync(file)) {
    const key = readFileSync(file, 'utf8').trim();
    if (key.length < 16) {
      throw new ConfigError(
        'SECRET_KEY',
        `is not set, and ${file} holds no key of 16 characters or more`,
        'Restore that file from a backup (profiles sealed with it need it), or set SECRET_KEY to the key they were sealed with',
      );
    }
    return key;
  }
  const key = randomSecretKey();
  writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
  logger.info(
    'SECRET_KEY not set: made one for sealing provider keys, kept in the data directory',
    {
      file,
    },
  );
  return key;
}
