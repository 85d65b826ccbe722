/**
 * The one connection of the SQLite adapter, with what every role file needs:
 * statements prepared once and kept, and `tx`, which runs a function as one
 * `BEGIN IMMEDIATE … COMMIT` transaction (rolled back if it throws).
 *
 * `node:sqlite` is synchronous: a transaction runs to its end before any
 * other JavaScript does, so a store method is atomic by construction, and the
 * commit (WAL, `synchronous=FULL`) is on disk before the method resolves.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import type { WakeHandler } from '../records.ts';

export type Row = Record<string, unknown>;
export type Param = SQLInputValue;

export class Db {
  readonly raw: DatabaseSync;
  #statements = new Map<string, StatementSync>();
  #depth = 0;

  constructor(raw: DatabaseSync) {
    this.raw = raw;
  }

  #stmt(sql: string): StatementSync {
    let s = this.#statements.get(sql);
    if (!s) {
      s = this.raw.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  get(sql: string, ...params: Param[]): Row | undefined {
    return this.#stmt(sql).get(...params) as Row | undefined;
  }

  all(sql: string, ...params: Param[]): Row[] {
    return this.#stmt(sql).all(...params) as Row[];
  }

  /** Runs a write; the number of rows it changed. */
  run(sql: string, ...params: Param[]): number {
    return Number(this.#stmt(sql).run(...params).changes);
  }

  /** One transaction; nested calls join the outer one. */
  tx<T>(fn: () => T): T {
    if (this.#depth > 0) return fn();
    this.raw.exec('BEGIN IMMEDIATE');
    this.#depth++;
    try {
      const out = fn();
      this.#depth--;
      this.raw.exec('COMMIT');
      return out;
    } catch (e) {
      this.#depth--;
      this.raw.exec('ROLLBACK');
      throw e;
    }
  }

  close(): void {
    this.#statements.clear();
    this.raw.close();
  }
}

/** What the role files share: the connection, the clock, and the in-process wake-up handlers. */
export interface SqliteContext {
  db: Db;
  clock: () => number;
  wake: Map<string, Set<WakeHandler>>;
  readyHandlers: Set<() => void>;
}

export const str = (v: unknown): string => (typeof v === 'string' ? v : String(v ?? ''));
export const num = (v: unknown): number => Number(v ?? 0);
