import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../../runtime/store/sqlite/sqlite-store.ts';
import { storeContract } from './contract/index.ts';

// A manual clock, shared by every store made: `advance` moves it.
let t = 1_700_000_000_000;
storeContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'swe-sqlite-'));
  const store = new SqliteStore({ dir, clock: () => t });
  return {
    store,
    advance: async (ms) => {
      t += ms;
    },
    cleanup: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
