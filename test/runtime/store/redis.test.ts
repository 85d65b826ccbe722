import { isolatedRedisStore } from '../../support/stores.ts';
import { storeContract } from './contract/index.ts';

// Each test gets its own key prefix on the shared server; time is real, so `advance` sleeps.
storeContract('redis', async () => ({
  ...(await isolatedRedisStore()),
  advance: (ms) => new Promise((r) => setTimeout(r, ms)),
}));
