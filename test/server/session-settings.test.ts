import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.ts';
import { sessionSettings, settingsDrift } from '../../server/session-settings.ts';
import type { NodeInfo } from '../../runtime/store/records.ts';

const node = (id: string, settings?: Record<string, string>): NodeInfo => ({
  id,
  address: `127.0.0.1:${id.length}`,
  started_at: 0,
  version: 'v',
  active_sessions: 0,
  sessions: [],
  heartbeat_at: 0,
  ...(settings ? { settings } : {}),
});

describe('settings that change what a session does', () => {
  it('are the sandbox kind and its limits, the budgets and the running limit, as configured', () => {
    const local = sessionSettings(loadConfig({ AGENT_MAX_CALLS: '50', SANDBOX_MAX_MB: '8192' }));
    expect(local).toMatchObject({
      SANDBOX_TYPE: 'local',
      SANDBOX_ISOLATION: 'auto',
      SANDBOX_NETWORK: 'auto',
      SANDBOX_MEMORY_MB: '4096',
      SANDBOX_MAX_MB: '8192',
      AGENT_MAX_CALLS: '50',
      USER_MAX_RUNNING_SESSIONS: '10',
    });
    const daytona = sessionSettings(
      loadConfig({ SANDBOX_TYPE: 'daytona', DAYTONA_API_KEY: 'the-key-is-not-a-setting' }),
    );
    expect(daytona).toMatchObject({
      SANDBOX_TYPE: 'daytona',
      DAYTONA_SERVER_URL: 'https://app.daytona.io/api',
    });
    expect(JSON.stringify(daytona)).not.toContain('the-key-is-not-a-setting');
  });

  it('are compared with every other live node: one line per node that differs, naming both values', () => {
    const mine = sessionSettings(loadConfig({}));
    const other = sessionSettings(loadConfig({ SANDBOX_TYPE: 'daytona', DAYTONA_API_KEY: 'k' }));
    const lines = settingsDrift('me', mine, [
      node('me', { ...mine, SANDBOX_TYPE: 'ignored: this is me' }),
      node('same', mine),
      node('old'), // a node from before settings were published
      node('n2', other),
    ]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^settings differ from node n2 \(127\.0\.0\.1:2\): /);
    expect(lines[0]).toContain('SANDBOX_TYPE=daytona there, local here');
    expect(lines[0]).toContain('SANDBOX_ISOLATION=(unset) there, auto here');
    expect(lines[0]).toContain('give every node on this store the same settings');
  });
});
