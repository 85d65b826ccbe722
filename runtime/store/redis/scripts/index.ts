/**
 * The store's Lua scripts, one per state change, registered on a connection
 * with `defineCommand` (EVALSHA, falling back to EVAL after a script flush or
 * a failover; inside pipelines too). A script's key count is in its file
 * name; `-n` names one that takes as many keys as the caller passes.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import { ADMIT_2 } from './admit-2.ts';
import { APPEND_EVENT_3 } from './append-event-3.ts';
import { APPEND_LOGS_2 } from './append-logs-2.ts';
import { APPEND_TRANSCRIPT_3 } from './append-transcript-3.ts';
import { CLAIM_2 } from './claim-2.ts';
import { COMMIT_4 } from './commit-4.ts';
import { CREATE_SESSION_3 } from './create-session-3.ts';
import { DELETE_TOKEN_3 } from './delete-token-3.ts';
import { DELETE_USER_4 } from './delete-user-4.ts';
import { DELIVER_TIMER_3 } from './deliver-timer-3.ts';
import { FENCED_WRITE_2 } from './fenced-write-2.ts';
import { HEARTBEAT_2 } from './heartbeat-2.ts';
import { PARK_2 } from './park-2.ts';
import { PUT_PROFILE_1 } from './put-profile-1.ts';
import { PUT_TOKEN_3 } from './put-token-3.ts';
import { RELEASE_1 } from './release-1.ts';
import { REMOVE_SESSION_N } from './remove-session-n.ts';
import { RENEW_2 } from './renew-2.ts';
import { RESERVE_DUE_1 } from './reserve-due-1.ts';
import { RESERVE_KEY_1 } from './reserve-key-1.ts';
import { SCHEDULE_TIMER_2 } from './schedule-timer-2.ts';
import { SET_RUNNING_3 } from './set-running-3.ts';
import { TAKE_READY_2 } from './take-ready-2.ts';
import { TOKEN_BY_HASH_2 } from './token-by-hash-2.ts';
import { TOUCH_LEASES_1 } from './touch-leases-1.ts';
import { UNINDEX_SESSION_N } from './unindex-session-n.ts';

/** A script and how many keys it takes: a number, or `'n'` (the caller's count, sent first). */
interface ScriptDef {
  lua: string;
  numberOfKeys: number | 'n';
}

/** Script name → Lua and key count (the count is also in the file name). */
export const SCRIPTS = {
  swCreateSession: { lua: CREATE_SESSION_3, numberOfKeys: 3 },
  swReserveKey: { lua: RESERVE_KEY_1, numberOfKeys: 1 },
  swAppendEvent: { lua: APPEND_EVENT_3, numberOfKeys: 3 },
  swClaim: { lua: CLAIM_2, numberOfKeys: 2 },
  swCommit: { lua: COMMIT_4, numberOfKeys: 4 },
  swRenew: { lua: RENEW_2, numberOfKeys: 2 },
  swAppendLogs: { lua: APPEND_LOGS_2, numberOfKeys: 2 },
  swRelease: { lua: RELEASE_1, numberOfKeys: 1 },
  swScheduleTimer: { lua: SCHEDULE_TIMER_2, numberOfKeys: 2 },
  swDeliverTimer: { lua: DELIVER_TIMER_3, numberOfKeys: 3 },
  swTakeReady: { lua: TAKE_READY_2, numberOfKeys: 2 },
  swTouchLeases: { lua: TOUCH_LEASES_1, numberOfKeys: 1 },
  swReserveDue: { lua: RESERVE_DUE_1, numberOfKeys: 1 },
  swHeartbeat: { lua: HEARTBEAT_2, numberOfKeys: 2 },
  swFencedWrite: { lua: FENCED_WRITE_2, numberOfKeys: 2 },
  swPutProfile: { lua: PUT_PROFILE_1, numberOfKeys: 1 },
  swPutToken: { lua: PUT_TOKEN_3, numberOfKeys: 3 },
  swDeleteToken: { lua: DELETE_TOKEN_3, numberOfKeys: 3 },
  swDeleteUser: { lua: DELETE_USER_4, numberOfKeys: 4 },
  swTokenByHash: { lua: TOKEN_BY_HASH_2, numberOfKeys: 2 },
  swAdmit: { lua: ADMIT_2, numberOfKeys: 2 },
  swSetRunning: { lua: SET_RUNNING_3, numberOfKeys: 3 },
  swPark: { lua: PARK_2, numberOfKeys: 2 },
  swAppendTranscript: { lua: APPEND_TRANSCRIPT_3, numberOfKeys: 3 },
  swRemoveSession: { lua: REMOVE_SESSION_N, numberOfKeys: 'n' },
  swUnindexSession: { lua: UNINDEX_SESSION_N, numberOfKeys: 'n' },
} as const satisfies Record<string, ScriptDef>;

export type ScriptName = keyof typeof SCRIPTS;

/** A script's raw reply: Lua strings, integers, nested tables; nil as null. */
export type Reply = string | number | null | Reply[];

type ScriptMethod = (...args: (string | number)[]) => unknown;

export function defineScripts(redis: Redis): void {
  for (const [name, def] of Object.entries(SCRIPTS) as [string, ScriptDef][]) {
    // Without a count, ioredis takes it as the first argument (`withCount`).
    redis.defineCommand(
      name,
      def.numberOfKeys === 'n'
        ? { lua: def.lua }
        : { lua: def.lua, numberOfKeys: def.numberOfKeys },
    );
  }
}

function method(target: Redis | ChainableCommander, name: ScriptName): ScriptMethod {
  const fn = (target as unknown as Record<string, ScriptMethod | undefined>)[name];
  if (!fn) throw new Error(`Redis script ${name} is not defined on this connection`);
  return fn.bind(target);
}

/** Runs a script; keys must match its key count (any number for an `'n'` script). */
export function runScript(
  redis: Redis,
  name: ScriptName,
  keys: string[],
  args: (string | number)[],
): Promise<Reply> {
  return method(redis, name)(...withCount(name, keys), ...args) as Promise<Reply>;
}

/** Queues a script on a pipeline; its reply comes back from `exec()`. */
export function queueScript(
  pipeline: ChainableCommander,
  name: ScriptName,
  keys: string[],
  args: (string | number)[],
): void {
  method(pipeline, name)(...withCount(name, keys), ...args);
}

/** The keys as the command takes them: checked against a fixed count, or led by their count. */
function withCount(name: ScriptName, keys: string[]): (string | number)[] {
  const { numberOfKeys } = SCRIPTS[name] as ScriptDef;
  if (numberOfKeys === 'n') return [keys.length, ...keys];
  if (keys.length !== numberOfKeys)
    throw new Error(`Redis script ${name} takes ${numberOfKeys} keys, got ${keys.length}`);
  return keys;
}
