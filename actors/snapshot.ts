import { AppError } from '../kernel/errors.ts';

/** A persisted XState snapshot, tagged with the schema it was written under. */
export interface StoredSnapshot {
  /** Schema version of `state`; see `SNAPSHOT_VERSION`. */
  v: number;
  /** `actor.getPersistedSnapshot()` output, JSON-safe. */
  state: unknown;
}

/**
 * Version of the persisted snapshot schema. Bump it when the machine's states
 * or context change shape, and add a migration from the previous version to
 * `MIGRATIONS`, so sessions persisted by older nodes still restore.
 */
export const SNAPSHOT_VERSION = 1;

/** `MIGRATIONS[v]` turns a version-v snapshot into version v+1. */
const MIGRATIONS: Record<number, (state: unknown) => unknown> = {};

/** Returns the XState persisted snapshot to restore, migrated to the current version, or null for a new session. */
export function readStoredSnapshot(stored: StoredSnapshot | null): unknown {
  if (!stored) return null;
  let { v, state } = stored;
  while (v < SNAPSHOT_VERSION) {
    const migrate = MIGRATIONS[v];
    if (!migrate) break;
    state = migrate(state);
    v++;
  }
  if (v !== SNAPSHOT_VERSION) {
    throw new AppError(
      'internal',
      500,
      `snapshot schema v${stored.v} cannot be restored by this node (v${SNAPSHOT_VERSION})`,
    );
  }
  return state;
}
