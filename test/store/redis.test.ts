import { Redis } from 'ioredis';
import { RedisStore } from '../../runtime/store/redis/index.ts';
import { redisUrl, uniquePrefix } from '../setup/redis.ts';
import { storeContract } from './contract.ts';

// Each test gets its own key prefix on the shared server; time is real, so `advance` sleeps.
storeContract('redis', async () => {
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
});
