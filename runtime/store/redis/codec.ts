/**
 * Session record <-> Redis hash fields. Values that may be null or
 * structured (`reason`, `result`, `snapshot`) are stored as JSON; numbers as
 * decimal strings, as Lua's HINCRBY and TIME arithmetic expect.
 */
import type { Commit, HistoryEntry, NewSession, SessionRecord, WakeHint } from '../records.ts';
import type { InboxEvent, InboxEventType } from '../../../actors/events.ts';
import type { SessionMode, SessionStatus } from '../../../actors/status.ts';

/** Phase of a session that no machine has run yet. */
export const INITIAL_PHASE = 'queued';

/** Field/value pairs of a new record; the create script adds `created_at`/`updated_at`. */
export function newRecordFields(init: NewSession): string[] {
  return [
    'id',
    init.id,
    'goal',
    init.goal,
    'repo_url',
    init.repo_url,
    'mode',
    init.mode,
    'status',
    'QUEUED',
    'phase',
    INITIAL_PHASE,
    'reason',
    'null',
    'result',
    'null',
    'snapshot',
    'null',
    'last_event_id',
    '0-0',
    'epoch',
    '0',
    'lease_node',
    '',
    'lease_until',
    '0',
    'fenced',
    '0',
    ...(init.budget ? ['budget', JSON.stringify(init.budget)] : []),
    ...(init.profileId ? ['profile_id', init.profileId] : []),
    ...(init.roleProfiles ? ['role_profiles', JSON.stringify(init.roleProfiles)] : []),
    ...(init.userId ? ['user_id', init.userId] : []),
    ...(init.maxRunning !== undefined ? ['max_running', String(init.maxRunning)] : []),
  ];
}

/** Field/value pairs a commit writes (the script adds `updated_at`). */
export function commitFields(c: Commit): string[] {
  return [
    'snapshot',
    JSON.stringify(c.snapshot ?? null),
    'status',
    c.status,
    'phase',
    c.phase,
    'reason',
    JSON.stringify(c.reason ?? null),
    'goal',
    c.goal,
    'result',
    JSON.stringify(c.result ?? null),
    'last_event_id',
    c.lastEventId,
  ];
}

/** HGETALL as Lua returns it (flat) to an object. */
export function pairsToObject(flat: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

function json(v: string | undefined): unknown {
  if (v === undefined || v === '') return null;
  return JSON.parse(v);
}

/** Every field `decodeRecord` reads but the snapshot: what a summary needs, for `HMGET`. */
export const SUMMARY_FIELDS = [
  'id',
  'goal',
  'repo_url',
  'mode',
  'status',
  'phase',
  'reason',
  'result',
  'created_at',
  'updated_at',
  'last_event_id',
  'epoch',
  'lease_node',
  'lease_until',
  'fenced',
  'hist_n',
  'budget',
  'profile_id',
  'role_profiles',
  'user_id',
  'max_running',
] as const;

/** Decodes a record hash; `now` (store time) decides whether the lease is still valid. */
export function decodeRecord(h: Record<string, string>, now: number): SessionRecord | null {
  if (h['id'] === undefined) return null;
  const epoch = Number(h['epoch'] ?? 0);
  const leaseNode = h['lease_node'] ?? '';
  const leaseUntil = Number(h['lease_until'] ?? 0);
  return {
    id: h['id'],
    goal: h['goal'] ?? '',
    repo_url: h['repo_url'] ?? '',
    mode: (h['mode'] ?? 'auto') as SessionMode,
    status: (h['status'] ?? 'QUEUED') as SessionStatus,
    phase: h['phase'] ?? INITIAL_PHASE,
    reason: json(h['reason']) as string | null,
    result: json(h['result']),
    created_at: Number(h['created_at'] ?? 0),
    updated_at: Number(h['updated_at'] ?? 0),
    snapshot: json(h['snapshot']) as SessionRecord['snapshot'],
    last_event_id: h['last_event_id'] ?? '0-0',
    epoch,
    owner:
      leaseNode !== '' && leaseUntil > now ? { nodeId: leaseNode, epoch, until: leaseUntil } : null,
    fenced_writes: Number(h['fenced'] ?? 0),
    ...(h['hist_n'] !== undefined ? { history_count: Number(h['hist_n']) } : {}),
    ...(h['budget']
      ? { budget: JSON.parse(h['budget']) as NonNullable<SessionRecord['budget']> }
      : {}),
    ...(h['profile_id'] ? { profileId: h['profile_id'] } : {}),
    ...(h['role_profiles']
      ? {
          roleProfiles: JSON.parse(h['role_profiles']) as NonNullable<
            SessionRecord['roleProfiles']
          >,
        }
      : {}),
    ...(h['user_id'] ? { userId: h['user_id'] } : {}),
    ...(h['max_running'] !== undefined ? { maxRunning: Number(h['max_running']) } : {}),
  };
}

/** One XRANGE entry `[id, [field, value, ...]]` to an inbox event. */
export function decodeEvent(entry: [string, string[]]): InboxEvent {
  const f = pairsToObject(entry[1]);
  return {
    id: entry[0],
    type: f['type'] as InboxEventType,
    payload: (json(f['payload']) ?? {}) as Record<string, unknown>,
    at: Number(f['at'] ?? entry[0].split('-')[0]),
  };
}

/**
 * The history list (oldest first) to entries. Entries written before `n`
 * existed lack it: they take it from their position, counted back from the
 * first entry after them that has one (the commit script starts numbering at
 * the list's length then), or from the list start when none has.
 */
export function decodeHistory(raws: readonly string[]): HistoryEntry[] {
  const parsed = raws.map((raw) => JSON.parse(raw) as Partial<HistoryEntry>);
  const out: HistoryEntry[] = new Array(parsed.length);
  let next: { index: number; n: number } | null = null;
  for (let i = parsed.length - 1; i >= 0; i--) {
    const e = parsed[i]!;
    const n: number = typeof e.n === 'number' ? e.n : next ? next.n - (next.index - i) : i;
    if (typeof e.n === 'number') next = { index: i, n };
    out[i] = {
      n,
      at: Number(e.at),
      event: e.event ?? '',
      from: e.from ?? '',
      to: e.to ?? '',
      node: e.node ?? '',
      epoch: Number(e.epoch),
      ...(e.payload ? { payload: e.payload } : {}),
    };
  }
  return out;
}

/**
 * A wake message: the session id alone, or `id\neventId\nprevId\ntype\nat\npayload`
 * for a new event (built by the append script; JSON payloads hold no raw newline).
 */
export function decodeWake(message: string): { sessionId: string; hint?: WakeHint } {
  const parts = message.split('\n', 6);
  if (parts.length < 6) return { sessionId: message };
  const [sessionId, id, prevId, type, at] = parts as [string, string, string, string, string];
  const payload = message.slice(
    sessionId.length + id.length + prevId.length + type.length + at.length + 5,
  );
  return {
    sessionId,
    hint: {
      event: {
        id,
        type: type as InboxEventType,
        payload: (json(payload) ?? {}) as Record<string, unknown>,
        at: Number(at),
      },
      prevId,
    },
  };
}

/** A request key's reservation in `{g}` (`scripts/reserve-key-1.ts`). */
export function encodeReservation(fingerprint: string, sessionId: string): string {
  return `${fingerprint}\n${sessionId}`;
}

export function decodeReservation(value: string): { fingerprint: string; sessionId: string } {
  const at = value.lastIndexOf('\n');
  return { fingerprint: value.slice(0, at), sessionId: value.slice(at + 1) };
}

/** A request key's record in a session's `idem` hash (`key_answer` in `scripts/lib.ts`); null when none or malformed. */
export function decodeKeyRecord(
  value: string | null,
): { until: number; fingerprint: string; answer: string } | null {
  const m = value === null ? null : /^(\d+)\n([^\n]*)\n(.*)$/s.exec(value);
  return m ? { until: Number(m[1]), fingerprint: m[2]!, answer: m[3]! } : null;
}
