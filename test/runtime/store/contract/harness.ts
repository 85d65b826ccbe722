import type { Store } from '../../../../runtime/store/port.ts';

/** A store under test, as every contract suite gets it from its adapter's test file. */
export interface StoreHarness {
  store: Store;
  /** Moves the store's time forward (a manual clock, or a real sleep for Redis). */
  advance(ms: number): Promise<void>;
  cleanup(): Promise<void>;
}
