/**
 * Opening a data directory: the directory (0700) and its database file
 * (0600, with its write-ahead log beside it), the settings that make every
 * commit durable, the schema, and the lock that keeps a second node out.
 *
 * One node per data directory: the connection runs in `locking_mode =
 * EXCLUSIVE` and takes the write lock at once, holding it until it closes
 * (or its process dies: the kernel drops the lock with it). A second node
 * fails to open with a line that names the holder from `node.pid`.
 */
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ConfigError } from '../../../kernel/errors.ts';
import { Db } from './db.ts';
import { migrate } from './schema.ts';

export const DB_FILE = 'swe-agent.db';
const PID_FILE = 'node.pid';

export interface OpenedDb {
  db: Db;
  file: string;
  /** Removes the pid file (the lock goes with the connection). */
  unlock(): void;
}

export function openDb(dir: string): OpenedDb {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new ConfigError(
      'DATA_DIR',
      `cannot create ${dir} (${(e as Error).message})`,
      'Point DATA_DIR at a directory this user can write',
    );
  }
  const file = join(dir, DB_FILE);
  let raw: DatabaseSync;
  try {
    // Never open and close the file when it exists: closing any descriptor of
    // it drops every POSIX lock this process holds on it, a live node's too.
    if (!existsSync(file)) closeSync(openSync(file, 'wx', 0o600));
    chmodSync(file, 0o600);
    raw = new DatabaseSync(file);
  } catch (e) {
    throw new ConfigError(
      'DATA_DIR',
      `cannot open ${file} (${(e as Error).message})`,
      'Point DATA_DIR at a directory this user can write',
    );
  }
  const db = new Db(raw);
  try {
    // No waiting: a lock held now is held by a live node for as long as it runs.
    raw.exec('PRAGMA busy_timeout = 0');
    raw.exec('PRAGMA locking_mode = EXCLUSIVE');
    raw.exec('PRAGMA journal_mode = WAL');
    raw.exec('PRAGMA synchronous = FULL');
    // A write takes the exclusive lock, which EXCLUSIVE mode keeps until close.
    migrate(db, file);
    db.tx(() => db.run("INSERT OR REPLACE INTO meta (k, v) VALUES ('opened_at', ?)", Date.now()));
  } catch (e) {
    try {
      raw.close();
    } catch {
      // Already unusable; the error below is what matters.
    }
    if (isLocked(e)) throw inUse(dir);
    throw e;
  }
  const pidFile = join(dir, PID_FILE);
  writeFileSync(pidFile, `${process.pid} ${hostname()}\n`, { mode: 0o600 });
  return {
    db,
    file,
    unlock: () => rmSync(pidFile, { force: true }),
  };
}

function isLocked(e: unknown): boolean {
  const err = e as { errcode?: number; message?: string };
  return (
    err?.errcode === 5 ||
    err?.errcode === 6 ||
    /database is locked|SQLITE_BUSY/i.test(String(err?.message))
  );
}

function inUse(dir: string): ConfigError {
  let holder = 'another node';
  try {
    const [pid, host] = readFileSync(join(dir, PID_FILE), 'utf8').trim().split(' ');
    if (pid) holder = `node pid ${pid}${host ? ` on ${host}` : ''}`;
  } catch {
    // No pid file: the holder is still starting.
  }
  return new ConfigError(
    'DATA_DIR',
    `${dir} is in use by ${holder}; one node per data directory`,
    'Stop that node, give this one another DATA_DIR, or set REDIS_URL to run several nodes on one store',
  );
}
