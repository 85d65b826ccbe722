import { describe, expect, it } from 'vitest';
import type { StoreHarness } from './harness.ts';
import { eachHarness } from './helpers.ts';

/**
 * The node registry: heartbeats list the nodes with the sessions they host.
 */
export function nodesContract(name: string, factory: () => Promise<StoreHarness>): void {
  describe(`store contract: ${name}`, () => {
    const { store } = eachHarness(factory);

    it('heartbeats list the nodes with the sessions they host', async () => {
      const sessions = ['s1', 's2', 's3'];
      await store.heartbeat(
        {
          id: 'na',
          address: '127.0.0.1:1',
          started_at: 1,
          version: 'v',
          active_sessions: 3,
          sessions,
          heartbeat_at: 0,
        },
        1000,
      );
      sessions.push('s4'); // the caller's array is not kept
      const nodes = await store.listNodes();
      expect(nodes.find((n) => n.id === 'na')).toMatchObject({
        address: '127.0.0.1:1',
        active_sessions: 3,
        version: 'v',
        sessions: ['s1', 's2', 's3'],
      });
      await store.heartbeat(
        {
          id: 'na',
          address: '127.0.0.1:1',
          started_at: 1,
          version: 'v',
          active_sessions: 0,
          sessions: [],
          heartbeat_at: 0,
        },
        1000,
      );
      expect((await store.listNodes()).find((n) => n.id === 'na')?.sessions).toEqual([]);
    });

    it("keeps a node's published settings, and lists a node without them without the field", async () => {
      const base = {
        address: '',
        started_at: 1,
        version: 'v',
        active_sessions: 0,
        sessions: [],
        heartbeat_at: 0,
      };
      const settings = { SANDBOX_TYPE: 'daytona', AGENT_MAX_CALLS: '50' };
      await store.heartbeat({ id: 'with', ...base, settings }, 1000);
      await store.heartbeat({ id: 'without', ...base }, 1000);
      const nodes = await store.listNodes();
      expect(nodes.find((n) => n.id === 'with')?.settings).toEqual(settings);
      expect(nodes.find((n) => n.id === 'without')).not.toHaveProperty('settings');
    });
  });
}
