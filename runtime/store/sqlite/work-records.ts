/**
 * Agent bookkeeping in the SQLite adapter: AI profiles, and what a session's
 * work keeps outside the snapshot (usage, transcripts, artifacts; those
 * writes fenced by the epoch). Arguments are checked and encoded by
 * `bookkeeping.ts`, as in the other adapters.
 */
import type { AgentUsage } from '../../../actors/work-contract.ts';
import { checkArtifacts, checkRole, encodeMessage, usageIncrement } from '../bookkeeping.ts';
import { TRANSCRIPT_CAP, type CommitResult, type Lease, type StoredProfile } from '../records.ts';
import { num, type Row, type SqliteContext, str } from './db.ts';
import { fence, sessionRow } from './state.ts';

// Profiles ---------------------------------------------------------------

const profileOf = (r: Row): StoredProfile => ({
  ...(JSON.parse(str(r['body'])) as StoredProfile),
  isDefault: num(r['is_default']) === 1,
});

export function putProfile(ctx: SqliteContext, profile: StoredProfile): void {
  const { isDefault, ...body } = profile;
  if (isDefault === true)
    ctx.db.run('UPDATE profiles SET is_default = 0 WHERE id != ?', profile.id);
  ctx.db.run(
    'INSERT OR REPLACE INTO profiles (id, is_default, body) VALUES (?, ?, ?)',
    profile.id,
    isDefault === true ? 1 : 0,
    JSON.stringify(body),
  );
}

export function getProfile(ctx: SqliteContext, id: string): StoredProfile | null {
  const r = ctx.db.get('SELECT is_default, body FROM profiles WHERE id = ?', id);
  return r ? profileOf(r) : null;
}

export function defaultProfile(ctx: SqliteContext): StoredProfile | null {
  const r = ctx.db.get('SELECT is_default, body FROM profiles WHERE is_default = 1 LIMIT 1');
  return r ? profileOf(r) : null;
}

export function listProfiles(ctx: SqliteContext): StoredProfile[] {
  return ctx.db
    .all('SELECT is_default, body FROM profiles')
    .map(profileOf)
    .sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
}

export function deleteProfile(ctx: SqliteContext, id: string): boolean {
  return ctx.db.run('DELETE FROM profiles WHERE id = ?', id) > 0;
}

// Usage, transcripts, artifacts ----------------------------------------

export function addUsage(
  ctx: SqliteContext,
  id: string,
  lease: Lease,
  delta: AgentUsage,
): CommitResult {
  const d = usageIncrement(delta);
  const refused = fence(ctx, sessionRow(ctx, id), lease);
  if (refused) return refused;
  ctx.db.run(
    `UPDATE sessions SET calls = calls + ?, input_tokens = input_tokens + ?, output_tokens = output_tokens + ?,
       cost_micros = cost_micros + ?, cost_unknown = MAX(cost_unknown, ?) WHERE id = ?`,
    d.calls,
    d.inputTokens,
    d.outputTokens,
    d.cost ?? 0,
    d.cost === null ? 1 : 0,
    id,
  );
  return { kind: 'ok', released: false };
}

export function getUsage(ctx: SqliteContext, id: string): AgentUsage {
  const u = ctx.db.get(
    'SELECT calls, input_tokens, output_tokens, cost_micros, cost_unknown FROM sessions WHERE id = ?',
    id,
  );
  if (!u) return { calls: 0, inputTokens: 0, outputTokens: 0, costMicros: 0 };
  return {
    calls: num(u['calls']),
    inputTokens: num(u['input_tokens']),
    outputTokens: num(u['output_tokens']),
    costMicros: num(u['cost_unknown']) === 1 ? null : num(u['cost_micros']),
  };
}

export function appendTranscript(
  ctx: SqliteContext,
  id: string,
  lease: Lease,
  role: string,
  messages: unknown[],
): CommitResult {
  checkRole(role);
  const encoded = messages.map(encodeMessage).slice(-TRANSCRIPT_CAP);
  const refused = fence(ctx, sessionRow(ctx, id), lease);
  if (refused) return refused;
  const last = ctx.db.get(
    'SELECT MAX(n) AS n FROM transcripts WHERE session_id = ? AND role = ?',
    id,
    role,
  )?.['n'];
  let n = last === null || last === undefined ? 0 : num(last) + 1;
  for (const m of encoded) {
    ctx.db.run(
      'INSERT INTO transcripts (session_id, role, n, message) VALUES (?, ?, ?, ?)',
      id,
      role,
      n++,
      m,
    );
  }
  ctx.db.run(
    'DELETE FROM transcripts WHERE session_id = ? AND role = ? AND n < ?',
    id,
    role,
    n - TRANSCRIPT_CAP,
  );
  return { kind: 'ok', released: false };
}

export function getTranscript(ctx: SqliteContext, id: string, role: string): unknown[] {
  checkRole(role);
  return ctx.db
    .all('SELECT message FROM transcripts WHERE session_id = ? AND role = ? ORDER BY n', id, role)
    .map((r) => JSON.parse(str(r['message'])) as unknown);
}

export function putArtifacts(
  ctx: SqliteContext,
  id: string,
  lease: Lease,
  values: Record<string, string>,
): CommitResult {
  const entries = checkArtifacts(values);
  const refused = fence(ctx, sessionRow(ctx, id), lease);
  if (refused) return refused;
  for (const [k, v] of entries) {
    ctx.db.run(
      // An update in place keeps the name's first position, as the other adapters do.
      'INSERT INTO artifacts (session_id, name, value) VALUES (?, ?, ?) ON CONFLICT (session_id, name) DO UPDATE SET value = excluded.value',
      id,
      k,
      v,
    );
  }
  return { kind: 'ok', released: false };
}

export function getArtifacts(ctx: SqliteContext, id: string): Record<string, string> {
  return Object.fromEntries(
    ctx.db
      .all('SELECT name, value FROM artifacts WHERE session_id = ? ORDER BY rowid', id)
      .map((r) => [str(r['name']), str(r['value'])]),
  );
}
