import { MemoryStore } from '../../../runtime/store/memory/memory-store.ts';
import { storeContract } from './contract/index.ts';

// A manual clock, shared by every store made: `advance` moves it.
let t = 1_700_000_000_000;
storeContract('memory', async () => ({
  store: new MemoryStore({ clock: () => t }),
  advance: async (ms) => {
    t += ms;
  },
  cleanup: async () => {},
}));
