/**
 * Key layout of the Redis store. Every Lua script touches the keys of one
 * hash slot only, so the layout works on Redis Cluster:
 *
 * - per session, hash tag `{id}`: `s` (record hash), `in` (inbox stream),
 *   `log` (list), `hist` (capped list), `idem` (request key field →
 *   `until\nfingerprint\nanswer`, written with the create or append it
 *   protects; see `requestKeyField`),
 *   `timers` (timer key → JSON `{payload, due, state}`), `usage` (hash of
 *   counters), `art` (artifact name → value), `tx:<role>` (capped list of
 *   JSON transcript messages), `tx` (set of the roles with a transcript, so
 *   a removal finds their keys), and, only while a removal is unfinished,
 *   `gone` (what its `{g}` step needs: see `removal.ts`);
 * - global, hash tag `{g}`: `ready`, `leases`, `due`, `created`,
 *   `created:user:<userId>` (that user's sessions by creation time),
 *   `status:<S>`, `nodes`, `node:<id>`, `fenced`, `rk:<userId>:<key>` (which
 *   request reserved a user's `Idempotency-Key`, for which session),
 *   `profiles` (profile id → JSON), `users` (user id → JSON), `tokens`
 *   (token id → JSON), `tokens:hash` (SHA-256 → token id), and
 *   `tokens:user:<userId>` (set of the user's token ids; may hold ids of
 *   tokens since deleted or moved, which readers skip);
 * - global too, for the per-user running limit: `running:<userId>` (set of
 *   the user's session ids counted as running) and `parked:<userId>` (zset of
 *   the user's sessions waiting for admission, scored by when they first
 *   waited), in `{g}` with `ready` so that un-parking is one script.
 *
 * The global timer index is `due`, not `timers`, so that no session id
 * (not even `g`) can produce a key that collides with a global one.
 */
import type { SessionStatus } from '../../../actors/status.ts';

export interface SessionKeys {
  record: string;
  inbox: string;
  log: string;
  history: string;
  idem: string;
  timers: string;
  /** Usage counters: calls, input_tokens, output_tokens, cost_micros, cost_unknown. */
  usage: string;
  /** Artifacts: name → value. */
  artifacts: string;
  /** Transcript of one role (validated by the caller). */
  transcript(role: string): string;
  /** The roles that have a transcript. */
  transcriptRoles: string;
  /** A removal's note for its `{g}` step, there only until that step is done. */
  removal: string;
}

export interface GlobalKeys {
  ready: string;
  leases: string;
  due: string;
  created: string;
  nodes: string;
  fenced: string;
  profiles: string;
  users: string;
  tokens: string;
  tokenHashes: string;
  status(status: SessionStatus): string;
  /** Sessions of one user, scored by creation time like `created`. */
  userCreated(userId: string): string;
  userTokens(userId: string): string;
  node(nodeId: string): string;
  /** The reservation of one user's request key: `fingerprint\nsessionId`. */
  requestKey(userId: string, key: string): string;
  /** The same reservation, named by its field in a session's `idem` hash (`requestKeyField`). */
  requestKeyOfField(field: string): string;
  /** Sessions of one user counted as running. */
  running(userId: string): string;
  /** Sessions of one user waiting for admission, by first waiting time. */
  parked(userId: string): string;
}

/** Keys of one session, all in the slot of `{id}`. */
export function sessionKeys(prefix: string, id: string): SessionKeys {
  const base = `${prefix}:{${id}}`;
  return {
    record: `${base}:s`,
    inbox: `${base}:in`,
    log: `${base}:log`,
    history: `${base}:hist`,
    idem: `${base}:idem`,
    timers: `${base}:timers`,
    usage: `${base}:usage`,
    artifacts: `${base}:art`,
    transcript: (role) => `${base}:tx:${role}`,
    transcriptRoles: `${base}:tx`,
    removal: `${base}:gone`,
  };
}

/** Keys shared by all sessions, all in the slot of `{g}`. */
export function globalKeys(prefix: string): GlobalKeys {
  const base = `${prefix}:{g}`;
  return {
    ready: `${base}:ready`,
    leases: `${base}:leases`,
    due: `${base}:due`,
    created: `${base}:created`,
    nodes: `${base}:nodes`,
    fenced: `${base}:fenced`,
    profiles: `${base}:profiles`,
    users: `${base}:users`,
    tokens: `${base}:tokens`,
    tokenHashes: `${base}:tokens:hash`,
    status: (status) => `${base}:status:${status}`,
    userCreated: (userId) => `${base}:created:user:${userId}`,
    userTokens: (userId) => `${base}:tokens:user:${userId}`,
    node: (nodeId) => `${base}:node:${nodeId}`,
    running: (userId) => `${base}:running:${userId}`,
    parked: (userId) => `${base}:parked:${userId}`,
    requestKey: (userId, key) => `${base}:rk:${requestKeyField(userId, key)}`,
    requestKeyOfField: (field) => `${base}:rk:${field}`,
  };
}

/** The field of a user's request key in a session's `idem` hash (the user id escaped, so no `:` in it can make two pairs collide). */
export function requestKeyField(userId: string, key: string): string {
  return `${encodeURIComponent(userId)}:${key}`;
}

/**
 * Transcript roles the agent wrote before the `tx` set existed: a removal
 * unlinks their keys as well, so sessions from then leave nothing behind.
 */
export const EARLIER_TRANSCRIPT_ROLES: readonly string[] = ['planner', 'programmer', 'reviewer'];

/** Pub/sub channels (not keys: cluster pub/sub is broadcast). */
export function channels(prefix: string) {
  return {
    ready: `${prefix}:ready`,
    wake: (nodeId: string) => `${prefix}:wake:${nodeId}`,
  };
}

/** Member of the global `due` zset for one session timer. JSON, so neither part needs escaping. */
export function dueMember(id: string, key: string): string {
  return JSON.stringify([id, key]);
}

export function parseDueMember(member: string): { id: string; key: string } | null {
  try {
    const v: unknown = JSON.parse(member);
    if (Array.isArray(v) && typeof v[0] === 'string' && typeof v[1] === 'string')
      return { id: v[0], key: v[1] };
  } catch {
    // a foreign member: ignored
  }
  return null;
}
