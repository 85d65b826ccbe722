/**
 * The SQLite adapter's tables. A session is a row of `sessions`; what it owns
 * (inbox, logs, history, request keys, timers, transcripts, artifacts) is in
 * tables keyed by its id first, so reading or removing one session's rows is
 * one index range. The queues and indexes of the Redis adapter (ready queue,
 * lease deadlines, due timers, status and user listings) are tables and
 * indexes here, written in the same transaction as the session: no repair.
 *
 * `PRAGMA user_version` is the schema's version: a newer one is refused (a
 * data directory of a newer release), an older one migrated in steps.
 */
import { ConfigError } from '../../../kernel/errors.ts';
import type { Db } from './db.ts';

export const SCHEMA_VERSION = 1;

const V1 = `
CREATE TABLE meta (k TEXT PRIMARY KEY, v) WITHOUT ROWID;
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  user_id TEXT,
  status TEXT NOT NULL,
  phase TEXT NOT NULL,
  reason TEXT,
  goal TEXT NOT NULL,
  result TEXT NOT NULL,
  init TEXT NOT NULL,
  snapshot TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  epoch INTEGER NOT NULL DEFAULT 0,
  last_event_id TEXT NOT NULL DEFAULT '0-0',
  last_inbox_id TEXT NOT NULL DEFAULT '0-0',
  lease_node TEXT NOT NULL DEFAULT '',
  lease_until INTEGER NOT NULL DEFAULT 0,
  commit_tag TEXT NOT NULL DEFAULT '',
  history_n INTEGER NOT NULL DEFAULT 0,
  log_n INTEGER NOT NULL DEFAULT 0,
  fenced_writes INTEGER NOT NULL DEFAULT 0,
  calls INTEGER NOT NULL DEFAULT 0,
  input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0,
  cost_micros INTEGER NOT NULL DEFAULT 0,
  cost_unknown INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX sessions_by_created ON sessions (created_at, id);
CREATE INDEX sessions_by_status ON sessions (status, created_at, id);
CREATE INDEX sessions_by_user ON sessions (user_id, created_at, id);
CREATE INDEX sessions_by_update ON sessions (status, updated_at);
CREATE TABLE inbox (
  session_id TEXT NOT NULL, ms INTEGER NOT NULL, seq INTEGER NOT NULL,
  type TEXT NOT NULL, payload TEXT NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY (session_id, ms, seq)
) WITHOUT ROWID;
CREATE TABLE logs (
  session_id TEXT NOT NULL, n INTEGER NOT NULL, line TEXT NOT NULL,
  PRIMARY KEY (session_id, n)
) WITHOUT ROWID;
CREATE TABLE history (
  session_id TEXT NOT NULL, n INTEGER NOT NULL, entry TEXT NOT NULL,
  PRIMARY KEY (session_id, n)
) WITHOUT ROWID;
CREATE TABLE request_keys (
  session_id TEXT NOT NULL, name TEXT NOT NULL, until INTEGER NOT NULL,
  fingerprint TEXT NOT NULL, answer TEXT NOT NULL,
  PRIMARY KEY (session_id, name)
) WITHOUT ROWID;
CREATE TABLE reservations (
  name TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, session_id TEXT NOT NULL, until INTEGER NOT NULL
);
CREATE INDEX reservations_by_until ON reservations (until);
CREATE INDEX reservations_by_session ON reservations (session_id);
CREATE TABLE ready (session_id TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE INDEX ready_by_at ON ready (at);
CREATE TABLE deadlines (session_id TEXT PRIMARY KEY, until INTEGER NOT NULL);
CREATE INDEX deadlines_by_until ON deadlines (until);
CREATE TABLE timers (
  session_id TEXT NOT NULL, key TEXT NOT NULL, payload TEXT NOT NULL,
  due INTEGER NOT NULL, fired INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (session_id, key)
);
CREATE INDEX timers_due ON timers (fired, due);
CREATE TABLE transcripts (
  session_id TEXT NOT NULL, role TEXT NOT NULL, n INTEGER NOT NULL, message TEXT NOT NULL,
  PRIMARY KEY (session_id, role, n)
) WITHOUT ROWID;
CREATE TABLE artifacts (
  session_id TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (session_id, name)
);
CREATE TABLE profiles (id TEXT PRIMARY KEY, is_default INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE users (id TEXT PRIMARY KEY, created_at INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE tokens (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL, created_at INTEGER NOT NULL, body TEXT NOT NULL
);
CREATE INDEX tokens_by_user ON tokens (user_id, created_at);
CREATE TABLE token_hashes (hash TEXT PRIMARY KEY, token_id TEXT NOT NULL);
CREATE TABLE running (user_id TEXT NOT NULL, session_id TEXT NOT NULL, PRIMARY KEY (user_id, session_id)) WITHOUT ROWID;
CREATE TABLE parked (
  user_id TEXT NOT NULL, session_id TEXT NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY (user_id, session_id)
);
CREATE TABLE nodes (id TEXT PRIMARY KEY, info TEXT NOT NULL, heartbeat_at INTEGER NOT NULL, ttl_ms INTEGER NOT NULL);
`;

/** Creates the tables on a new file; refuses a file of a newer schema. */
export function migrate(db: Db, file: string): void {
  const version = Number(db.get('PRAGMA user_version')?.['user_version'] ?? 0);
  if (version > SCHEMA_VERSION) {
    throw new ConfigError(
      'DATA_DIR',
      `${file} has schema version ${version}, newer than this release's ${SCHEMA_VERSION}`,
      'Run the release that wrote it, or point DATA_DIR at another directory',
    );
  }
  if (version === SCHEMA_VERSION) return;
  db.tx(() => {
    db.raw.exec(V1);
    db.raw.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  });
}
