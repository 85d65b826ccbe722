import { Queue, Worker } from 'bullmq';

/**
 * The peer we measure throughput against: BullMQ processing `jobs` no-op jobs
 * at `concurrency`, on the same Redis, in this process. Returns jobs per second,
 * timed from the first job's start to the last job's completion, and the CPU
 * time this process spent per job (µs) over the same span.
 */
export async function benchBullmq(
  url: string,
  jobs: number,
  concurrency: number,
): Promise<{ perSecond: number; cpuUs: number }> {
  const { hostname, port } = new URL(url);
  const connection = { host: hostname, port: Number(port || 6379), maxRetriesPerRequest: null };
  const name = `bench-${Date.now().toString(36)}`;
  const queue = new Queue(name, { connection });
  for (let i = 0; i < jobs; i += 1000) {
    await queue.addBulk(
      Array.from({ length: Math.min(1000, jobs - i) }, (_, k) => ({
        name: 'noop',
        data: { i: i + k },
        opts: { removeOnComplete: true },
      })),
    );
  }
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  let t0 = 0;
  let c0 = 0;
  const cpu = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  const worker = new Worker(
    name,
    async () => {
      if (t0 === 0) {
        t0 = performance.now();
        c0 = cpu();
      }
    },
    { connection, concurrency, autorun: true },
  );
  worker.on('completed', () => {
    if (++done === jobs) finish();
  });
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  const cpuUs = (cpu() - c0) / jobs;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return { perSecond: jobs / seconds, cpuUs };
}
