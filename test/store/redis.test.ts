import { Redis } from 'ioredis';
import { RedisStore } from '../../runtime/store/redis/index.ts';
import { redisUrl, uniquePrefix } from '../setup/redis.ts';
import { storeContract, type StoreHarness } from './contract.ts';
import { admissionContract } from './admission-contract.ts';

// Each test gets its own key prefix on the shared server; time is real, so `advance` sleeps.
const harness = async (): Promise<StoreHarness> => {
  const prefix = uniquePrefix();
  const store = await RedisStore.create({ url: redisUrl(), prefix });
  return {
    store,
    advance: (ms) => new Promise((r) => setTimeout(r, ms)),
    async cleanup() {
      await store.close();
      const raw = new Redis(redisUrl());
      const keys = await raw.keys(`${prefix}:*`);
      if (keys.length > 0) await raw.del(...keys);
      await raw.quit();
    },
  };
};
storeContract('redis', harness);
admissionContract('redis', harness);
