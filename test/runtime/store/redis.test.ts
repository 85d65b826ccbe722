import { isolatedRedisStore } from '../../setup/redis.ts';
import { storeContract } from './contract.ts';
import type { StoreHarness } from './harness.ts';
import { admissionContract } from './admission-contract.ts';

// Each test gets its own key prefix on the shared server; time is real, so `advance` sleeps.
const harness = async (): Promise<StoreHarness> => ({
  ...(await isolatedRedisStore()),
  advance: (ms) => new Promise((r) => setTimeout(r, ms)),
});
storeContract('redis', harness);
admissionContract('redis', harness);
