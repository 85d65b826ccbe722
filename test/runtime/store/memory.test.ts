import { MemoryStore } from '../../../runtime/store/memory/memory-store.ts';
import { storeContract } from './contract.ts';
import { admissionContract } from './admission-contract.ts';

let t = 1_700_000_000_000;
storeContract('memory', async () => ({
  store: new MemoryStore({ clock: () => t }),
  advance: async (ms) => {
    t += ms;
  },
  cleanup: async () => {},
}));
admissionContract('memory', async () => ({
  store: new MemoryStore({ clock: () => t }),
  advance: async (ms) => {
    t += ms;
  },
  cleanup: async () => {},
}));
