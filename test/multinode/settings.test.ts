import { afterEach, describe, expect, it } from 'vitest';
import { Cluster } from '../support/service/processes.ts';
import { redisUrl, uniquePrefix } from '../support/stores.ts';

let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

describe('nodes on one store', () => {
  it('say at start where their session settings differ from the live nodes, and stay quiet when they agree', async () => {
    cluster = new Cluster(redisUrl(), uniquePrefix(), { leaseTtlMs: 1000 });
    const [first] = await cluster.add(1);
    const [agrees] = await cluster.add(1);
    const [differs] = await cluster.add(1, {
      env: { AGENT_MAX_CALLS: '7', SANDBOX_MAX_MB: '8192' },
    });
    const warning = (out: string[]) => out.filter((l) => l.includes('settings differ'));
    expect(warning(first!.output)).toEqual([]);
    expect(warning(agrees!.output)).toEqual([]);
    const said = warning(differs!.output);
    // One line for each of the two nodes already there, naming both values.
    expect(said).toHaveLength(2);
    for (const line of said) {
      expect(line).toContain('AGENT_MAX_CALLS=200 there, 7 here');
      expect(line).toContain('SANDBOX_MAX_MB=4096 there, 8192 here');
      expect(line).toMatch(/"level":"warn"/);
    }
  });
});
