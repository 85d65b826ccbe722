import type { ChainableCommander } from 'ioredis';

/** Runs a pipeline and returns its replies, throwing the first command error. */
export async function exec(p: ChainableCommander): Promise<unknown[]> {
  const res = await p.exec();
  if (!res) throw new Error('Redis pipeline was discarded');
  return res.map(([err, value]) => {
    if (err) throw err;
    return value;
  });
}

/** Redis `TIME` reply `[seconds, microseconds]` in ms. */
export function timeMs(reply: unknown): number {
  const [s, us] = reply as [string, string];
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}
